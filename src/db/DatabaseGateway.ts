import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { EventEmitter, type Event } from 'cockatiel';
import type { Logger } from 'pino';
import { DomainError, UnavailableError } from '../domain/errors';
import type { DatabasePolicy, WorkKind } from '../resilience/createDatabasePolicy';
import { translateDriverError } from './driverErrors';
import { databaseFailureCode } from './failureCode';
import { boundsStatementsPerConnection, withStatementDeadline } from './sessionStatementTimeout';

/** Options of one unit of database work. */
export interface WorkOptions {
  /** Absolute time by which the caller needs the answer. */
  readonly deadline?: Date;
}

export interface WriteOptions extends WorkOptions {
  /** The write is idempotent (request_id): it may be retried after an ambiguous failure. */
  readonly idempotent?: boolean;
}

/**
 * The one door to PostgreSQL for the services. Every unit of work goes through
 * the dependency's resilience policy, runs reads on the pool and writes in a
 * transaction, tells PostgreSQL to stop when the caller's time is up
 * (statement_timeout from the remaining deadline), and turns driver failures
 * into domain errors.
 */
export interface DatabaseGateway {
  read<T>(operation: string, work: (db: CommonQueryMethods) => Promise<T>, options?: WorkOptions): Promise<T>;
  /** Several reads that must agree: one REPEATABLE READ, READ ONLY transaction, so every query sees the same snapshot. */
  snapshot<T>(operation: string, work: (tx: CommonQueryMethods) => Promise<T>, options?: WorkOptions): Promise<T>;
  write<T>(operation: string, work: (tx: CommonQueryMethods) => Promise<T>, options?: WriteOptions): Promise<T>;
}

export interface PoolHolder {
  /** The pool to use now; throws UnavailableError while there is none. */
  current(): DatabasePool;
}

/** A failed attempt as observers see it: what it threw (before translation) and its stable failure code. */
export interface QueryFailure {
  readonly error: unknown;
  readonly code: string;
}

/** Observes every attempt of a unit of work (metrics hook); `failure` is set when the attempt threw. */
export type QueryObserver = (operation: string, durationMs: number, failure?: QueryFailure) => void;

/** Spans for the gateway's work (src/tracing implements it; absent when tracing is off). */
export interface WorkTracer {
  /** One policy attempt (1 for the first): its own span, child of the caller's. */
  attempt<T>(operation: string, kind: WorkKind, attempt: number, work: () => Promise<T>): Promise<T>;
  /** One transaction: statements and the pool acquisition inside it are its children. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** An event on the caller's span: a retry with its backoff, or work refused before any attempt (breaker, bulkhead, budget). */
  event(name: string, attributes: Record<string, string | number>): void;
}

export interface DatabaseGatewayDeps {
  readonly pools: PoolHolder;
  readonly policy: DatabasePolicy;
  readonly logger: Logger;
  /** The pool's own statement timeout: work with at least this budget needs no per-call limit. */
  readonly statementTimeoutMs: number;
  readonly observe?: QueryObserver;
  readonly tracer?: WorkTracer | undefined;
}

/** What the gateway reports; subscribed by the composition root. */
export interface DatabaseGatewayEvents {
  /** The database refused or lost a connection (or is read-only) during some work: the prober may want to look now. */
  readonly onUnavailable: Event<UnavailableError>;
}

export function createDatabaseGateway(deps: DatabaseGatewayDeps): DatabaseGateway & DatabaseGatewayEvents {
  const { pools, policy, logger, statementTimeoutMs, observe, tracer } = deps;
  const unavailable = new EventEmitter<UnavailableError>();

  /** Runs `work` in a transaction whose statements stop after `budgetMs`; `snapshot` makes it REPEATABLE READ, READ ONLY. */
  const inTransaction = <T>(budgetMs: number, work: (tx: CommonQueryMethods) => Promise<T>, snapshot = false): Promise<T> =>
    tracer === undefined ? transaction(budgetMs, work, snapshot) : tracer.transaction(() => transaction(budgetMs, work, snapshot));
  const transaction = <T>(budgetMs: number, work: (tx: CommonQueryMethods) => Promise<T>, snapshot: boolean): Promise<T> => {
    const pool = pools.current();
    // On a bounded pool, START TRANSACTION already found the session timeout under the deadline (see `bounded`): no SET LOCAL.
    const setLocal = budgetMs < statementTimeoutMs && !boundsStatementsPerConnection(pool);
    return pool.transaction(async (tx) => {
      // Must be the transaction's first statement: the snapshot is taken by the next query.
      if (snapshot) await tx.query(sql.unsafe`set transaction isolation level repeatable read, read only`);
      if (setLocal) {
        await tx.query(sql.unsafe`select set_config('statement_timeout', ${String(Math.max(1, Math.floor(budgetMs)))}, true)`);
      }
      return work(tx);
    });
  };

  /** Transactions too: START TRANSACTION then finds the session timeout under the deadline, which bounds every statement in it (no SET LOCAL). */
  // Without a client deadline the pool's own DB_STATEMENT_TIMEOUT applies as it is (not rounded down to a bucket).
  const bounded = <T>(options: WorkOptions | undefined, budgetMs: number, work: () => Promise<T>): Promise<T> =>
    options?.deadline !== undefined && boundsStatementsPerConnection(pools.current()) ? withStatementDeadline(Date.now() + budgetMs, work) : work();

  const run = async <T>(kind: WorkKind, operation: string, options: WorkOptions | undefined, work: (budgetMs: number) => Promise<T>): Promise<T> => {
    const deadline = options?.deadline?.getTime() ?? Date.now() + statementTimeoutMs;
    if (tracer !== undefined) return traced(tracer, kind, operation, deadline, work);
    return policy.execute(kind, deadline, (budgetMs) => attempt(operation, work, budgetMs));
  };

  /** Each attempt its own span; the gap before a retry (the policy's backoff) an event on the caller's span. */
  const traced = async <T>(tracer: WorkTracer, kind: WorkKind, operation: string, deadline: number, work: (budgetMs: number) => Promise<T>): Promise<T> => {
    let attempts = 0;
    let lastEnd = 0;
    let lastReason = '';
    try {
      return await policy.execute(kind, deadline, (budgetMs) => {
        attempts += 1;
        if (attempts > 1)
          tracer.event('db.retry', {
            'db.operation': operation,
            'retry.attempt': attempts,
            'retry.backoff_ms': Math.round(performance.now() - lastEnd),
            'retry.reason': lastReason,
          });
        return tracer
          .attempt(operation, kind, attempts, () => attempt(operation, work, budgetMs))
          .catch((error: unknown) => {
            lastEnd = performance.now();
            lastReason = error instanceof DomainError ? error.reason : 'UNKNOWN';
            throw error;
          });
      });
    } catch (error) {
      if (attempts === 0) tracer.event('db.rejected', { 'db.operation': operation, reason: error instanceof DomainError ? error.reason : 'UNKNOWN' });
      throw error;
    }
  };

  /** One attempt: timed for the metrics, driver failures translated. */
  const attempt = async <T>(operation: string, work: (budgetMs: number) => Promise<T>, budgetMs: number): Promise<T> => {
    const started = performance.now();
    try {
      const result = await work(budgetMs);
      observe?.(operation, performance.now() - started);
      return result;
    } catch (error) {
      observe?.(operation, performance.now() - started, { error, code: databaseFailureCode(error) });
      if (error instanceof DomainError) throw error;
      const translated = translateDriverError(error);
      if (translated === undefined) throw error;
      logger.warn({ operation, reason: translated.reason, err: error }, 'database operation failed');
      if (translated instanceof UnavailableError) unavailable.emit(translated);
      throw translated;
    }
  };

  return {
    onUnavailable: unavailable.addListener,
    read: (operation, work, options) =>
      run('read', operation, options, (budgetMs) => {
        const pool = pools.current();
        // One round trip: the connection's session statement_timeout is kept under the deadline (sessionStatementTimeout.ts).
        if (boundsStatementsPerConnection(pool)) return bounded(options, budgetMs, () => work(pool));
        // Otherwise (transaction pooler) a short deadline needs a transaction to carry SET LOCAL statement_timeout.
        return budgetMs < statementTimeoutMs ? inTransaction(budgetMs, work) : work(pool);
      }),
    snapshot: (operation, work, options) =>
      run('read', operation, options, (budgetMs) => bounded(options, budgetMs, () => inTransaction(budgetMs, work, true))),
    write: (operation, work, options) =>
      run(options?.idempotent === true ? 'idempotent-write' : 'write', operation, options, (budgetMs) =>
        bounded(options, budgetMs, () => inTransaction(budgetMs, work)),
      ),
  };
}
