import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueryObserver } from '../db/DatabaseGateway';
import type { PoolObserver, PoolSnapshot } from '../db/poolInstrumentation';
import { DeadlineExceededError, DomainError, ResourceExhaustedError, UnavailableError } from '../domain/errors';
import { LATENCY_BUCKETS, seconds } from './buckets';

/** ok; rejected: the work ended in a business outcome (not found, conflict); error: the database failed. */
function outcomeOf(error: unknown): 'rejected' | 'error' {
  const failure =
    !(error instanceof DomainError) || error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof ResourceExhaustedError;
  return failure ? 'error' : 'rejected';
}

/** Query latency and failures, pool gauges read at scrape time, acquisition wait and connection time. */
export function createDatabaseMetrics(registry: Registry) {
  const registers = [registry];
  const querySeconds = new Histogram({
    name: 'coaching_db_operation_duration_seconds',
    help: 'Time of a unit of database work (one read, or one write transaction), by operation and outcome (ok, rejected, error).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const dbErrors = new Counter({
    name: 'coaching_db_errors_total',
    help: 'Database failures by stage (connect: opening a connection; query: a unit of work) and stable type, e.g. AUTH_FAILED, CONNECTION_REFUSED.',
    labelNames: ['stage', 'type'] as const,
    registers,
  });
  const acquireSeconds = new Histogram({
    name: 'coaching_db_pool_acquire_duration_seconds',
    help: 'Time a caller waited for a pooled connection (includes opening a new one).',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const poolWaits = new Counter({
    name: 'coaching_db_pool_waits_total',
    help: 'Connection requests that found the pool full and queued for a connection.',
    registers,
  });
  const connectSeconds = new Histogram({
    name: 'coaching_db_connection_establish_duration_seconds',
    help: 'Time to open a new physical database connection, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  let poolSnapshot: () => PoolSnapshot | undefined = () => undefined;
  const poolGauge = (name: string, help: string, read: (s: PoolSnapshot) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const snapshot = poolSnapshot();
        if (snapshot !== undefined) this.set(read(snapshot));
      },
    });
  };
  poolGauge('coaching_db_pool_max_connections', 'Most connections the pool opens (DB_MAX_CONNECTIONS).', (s) => s.max);
  poolGauge('coaching_db_pool_active_connections', 'Pooled connections checked out by callers.', (s) => s.active);
  poolGauge('coaching_db_pool_idle_connections', 'Open pooled connections waiting for a caller.', (s) => s.idle);
  poolGauge('coaching_db_pool_waiting_clients', 'Callers queued for a pooled connection.', (s) => s.waiting);
  poolGauge('coaching_db_pool_utilization_ratio', 'Active connections divided by the pool maximum (0 to 1).', (s) => s.active / s.max);

  const observeQuery: QueryObserver = (operation, durationMs, failure) => {
    const outcome = failure === undefined ? 'ok' : outcomeOf(failure.error);
    querySeconds.observe({ operation, outcome }, seconds(durationMs));
    if (failure !== undefined && outcome === 'error') dbErrors.inc({ stage: 'query', type: failure.code });
  };
  const poolObserver: PoolObserver = {
    acquired(waitMs, queued) {
      acquireSeconds.observe(seconds(waitMs));
      if (queued) poolWaits.inc();
    },
    connected(durationMs, failureCode) {
      connectSeconds.observe({ outcome: failureCode === undefined ? 'ok' : 'error' }, seconds(durationMs));
      if (failureCode !== undefined) dbErrors.inc({ stage: 'connect', type: failureCode });
    },
  };
  return {
    observeQuery,
    poolObserver,
    /** Pool gauges read this at scrape time. */
    trackPool(snapshot: () => PoolSnapshot | undefined): void {
      poolSnapshot = snapshot;
    },
  };
}
