import { BrokenCircuitError, EventEmitter, ExponentialBackoff, handleWhen, IsolatedCircuitError, retry, wrap, type Event, type RetryPolicy } from 'cockatiel';
import { breakerSettings } from '../config/breakerProfiles';
import type { ResilienceConfig } from '../config/config';
import { DeadlineExceededError, ResourceExhaustedError, TransactionConflictError, UnavailableError } from '../domain/errors';
import { BoundedWaitBulkheadPolicy, QueueRejectedError, type QueueRejection } from './BoundedWaitBulkheadPolicy';
import { BudgetExhaustedError, DeadlineBudgetPolicy } from './DeadlineBudgetPolicy';
import { DependencyBreakerPolicy, RecoveryHeldBackError, type BreakerState } from './DependencyBreakerPolicy';

export type { BreakerState } from './DependencyBreakerPolicy';

/**
 * How safe it is to run a unit of work again after an ambiguous failure:
 * reads and request_id-idempotent writes may be retried after a lost
 * connection; a plain write only when it certainly did not run.
 */
export type WorkKind = 'read' | 'idempotent-write' | 'write';

export type BulkheadRejection = QueueRejection;

/** One retry of database work: the reason of the failure, the attempt number (1 = first retry) and the wait before it. */
export interface RetryEvent {
  readonly reason: string;
  readonly attempt: number;
  readonly delayMs: number;
}

/** What the policies report, for logs, metrics and health: subscribed by the composition root once everything exists. */
export interface PolicyEvents {
  readonly onBreakerStateChange: Event<BreakerState>;
  readonly onRetry: Event<RetryEvent>;
  readonly onBulkheadRejected: Event<BulkheadRejection>;
}

/** The resilience policies of one dependency (the database), declared once. */
export interface DatabasePolicy extends PolicyEvents {
  /** Runs `work` with the time left until `deadline` (ms since epoch) as its budget. */
  execute<T>(kind: WorkKind, deadline: number, work: (budgetMs: number) => Promise<T>): Promise<T>;
  breakerState(): BreakerState;
  /** Operator action: hold the breaker open until reset. */
  isolate(): void;
  /** Operator action: close the breaker (and end an isolation) now. */
  reset(): void;
  /** Work running and queued in the bulkhead. */
  load(): { running: number; queued: number };
}

/**
 * Failures that say the database does not take connections (refused, timed
 * out, rejected, too many): only these count towards the breaker. A lost
 * connection (backend terminated, reset) is retried on a fresh one; if the
 * database is really gone, that fresh connection is refused and counts.
 * Query-level errors (constraints, timeouts, read-only) never count.
 */
function isInfrastructureFailure(error: unknown): boolean {
  return error instanceof UnavailableError && error.retry === 'safe' && (error.reason === 'DATABASE_UNAVAILABLE' || error.reason === 'DATABASE_AUTH_FAILED');
}

function retrySafety(error: unknown): 'safe' | 'ambiguous' | undefined {
  if (error instanceof UnavailableError || error instanceof TransactionConflictError) return error.retry;
  return undefined;
}

/**
 * The database's policies, outermost first (README "Resilience"): retry
 * (transient and safe failures only, never an open circuit, never past the
 * deadline) → circuit breaker (infrastructure failures only; critical
 * dependency) → bulkhead with a bounded queue wait → the deadline budget.
 * Each piece is a cockatiel policy of its own file; this one composes them
 * with `wrap` and turns their refusals into domain errors.
 */
export function createDatabasePolicy(config: ResilienceConfig): DatabasePolicy {
  const retried = new EventEmitter<RetryEvent>();
  const settings = breakerSettings('critical', {
    mode: config.breakerMode,
    consecutiveFailures: config.breakerConsecutiveFailures,
    failureRate: config.breakerFailureRate,
    samplingDurationMs: config.breakerSamplingDurationMs,
    minimumRps: config.breakerMinimumRps,
    halfOpenAfterMs: config.breakerHalfOpenAfterMs,
    recoverySuccesses: config.breakerRecoverySuccesses,
  });
  const breaker = new DependencyBreakerPolicy(settings, isInfrastructureFailure);
  const slots = new BoundedWaitBulkheadPolicy(config.bulkheadLimit, config.bulkheadQueue, config.bulkheadQueueTimeoutMs);

  const backoff = new ExponentialBackoff({ initialDelay: config.retryInitialDelayMs, maxDelay: config.retryMaxDelayMs });
  const retryWhen = (accept: (safety: 'safe' | 'ambiguous') => boolean): RetryPolicy => {
    const policy = retry(
      handleWhen((error) => {
        const safety = retrySafety(error);
        return safety !== undefined && accept(safety);
      }),
      { maxAttempts: config.retryMaxAttempts, backoff },
    );
    policy.onRetry((event) => {
      const reason =
        'error' in event && (event.error instanceof UnavailableError || event.error instanceof TransactionConflictError) ? event.error.reason : 'unknown';
      retried.emit({ reason, attempt: event.attempt, delayMs: event.delay });
    });
    return policy;
  };
  const retryAnyTransient = retryWhen(() => true);
  const retryNotExecuted = retryWhen((safety) => safety === 'safe');

  const translate = (error: unknown): unknown => {
    if (error instanceof IsolatedCircuitError) {
      return new UnavailableError('CIRCUIT_ISOLATED', 'database access is switched off by an operator (circuit isolated); retry later');
    }
    if (error instanceof RecoveryHeldBackError) {
      const retryAfterMs = Math.ceil(settings.halfOpenAfterMs / settings.recoverySuccesses);
      return new UnavailableError('CIRCUIT_OPEN', `database circuit breaker is recovering (${error.message}); retry in ${retryAfterMs} ms`, { retryAfterMs });
    }
    if (error instanceof BrokenCircuitError) {
      const retryAfterMs = breaker.retryAfterMs();
      return new UnavailableError(
        'CIRCUIT_OPEN',
        `database circuit breaker is open after repeated connection failures; failing fast, retry in ${retryAfterMs} ms`,
        { retryAfterMs },
      );
    }
    if (error instanceof QueueRejectedError)
      return new ResourceExhaustedError('DATABASE_BUSY', `all database connections are busy and ${error.message}; retry with backoff`, {
        retryAfterMs: error.retryAfterMs,
      });
    if (error instanceof BudgetExhaustedError) {
      switch (error.phase) {
        case 'too-short':
          return new DeadlineExceededError(`${error.message}; not starting database work`);
        case 'retry-too-late':
          return new DeadlineExceededError('the deadline passed while retrying the database');
        case 'expired':
          return new DeadlineExceededError('the deadline passed while waiting for the database');
      }
    }
    return error;
  };

  return {
    onBreakerStateChange: breaker.onStateChange,
    onRetry: retried.addListener,
    onBulkheadRejected: slots.onRejected,
    async execute(kind, deadline, work) {
      const budget = new DeadlineBudgetPolicy(deadline, config.minBudgetMs);
      const policy = wrap(kind === 'write' ? retryNotExecuted : retryAnyTransient, budget.retryGuard, breaker, slots.admitting(deadline), budget);
      try {
        return await policy.execute(({ budgetMs }) => work(budgetMs));
      } catch (error) {
        throw translate(error);
      }
    },
    breakerState: () => breaker.state,
    isolate: () => breaker.isolate(),
    reset: () => breaker.reset(),
    load: () => slots.load(),
  };
}
