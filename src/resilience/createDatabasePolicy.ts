import {
  BrokenCircuitError,
  bulkhead,
  BulkheadRejectedError,
  TaskCancelledError,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  IsolatedCircuitError,
  retry,
  SamplingBreaker,
  CircuitState,
  EventEmitter,
  type CircuitBreakerPolicy,
  type Event,
  type IDisposable,
} from 'cockatiel';
import type { ResilienceConfig } from '../config/config';
import { DeadlineExceededError, ResourceExhaustedError, TransactionConflictError, UnavailableError } from '../domain/errors';

/**
 * How safe it is to run a unit of work again after an ambiguous failure:
 * reads and request_id-idempotent writes may be retried after a lost
 * connection; a plain write only when it certainly did not run.
 */
export type WorkKind = 'read' | 'idempotent-write' | 'write';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export type BulkheadRejection = 'queue-full' | 'queue-timeout';

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

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Retry (outermost, exponential backoff with jitter, only transient and safe
 * failures, never an open circuit, never past the deadline) → circuit breaker
 * (infrastructure failures only) → bulkhead (pool size plus a small queue with
 * a bounded wait) → the work, bounded by the remaining budget.
 */
export function createDatabasePolicy(config: ResilienceConfig): DatabasePolicy {
  const breakerChanged = new EventEmitter<BreakerState>();
  const retried = new EventEmitter<RetryEvent>();
  const rejected = new EventEmitter<BulkheadRejection>();
  let breaker: CircuitBreakerPolicy;
  let isolation: IDisposable | undefined;
  let openedAt = 0;

  const buildBreaker = (): CircuitBreakerPolicy => {
    const policy = circuitBreaker(handleWhen(isInfrastructureFailure), {
      halfOpenAfter: config.breakerHalfOpenAfterMs,
      breaker:
        config.breakerMode === 'sampling'
          ? new SamplingBreaker({ threshold: config.breakerFailureRate, duration: config.breakerSamplingDurationMs, minimumRps: config.breakerMinimumRps })
          : new ConsecutiveBreaker(config.breakerConsecutiveFailures),
    });
    policy.onBreak(() => {
      openedAt = Date.now();
    });
    policy.onStateChange((state) => breakerChanged.emit(STATE_NAMES[state]));
    return policy;
  };
  breaker = buildBreaker();

  const limiter = bulkhead(config.bulkheadLimit, config.bulkheadQueue);
  let queued = 0;

  const backoff = new ExponentialBackoff({ initialDelay: config.retryInitialDelayMs, maxDelay: config.retryMaxDelayMs });
  const retryIf = (accept: (safety: 'safe' | 'ambiguous') => boolean) =>
    retry(
      handleWhen((error) => {
        const safety = retrySafety(error);
        return safety !== undefined && accept(safety);
      }),
      { maxAttempts: config.retryMaxAttempts, backoff },
    );
  const retryAnyTransient = retryIf(() => true);
  const retryNotExecuted = retryIf((safety) => safety === 'safe');
  for (const policy of [retryAnyTransient, retryNotExecuted]) {
    policy.onRetry((event) => {
      const reason =
        'error' in event && (event.error instanceof UnavailableError || event.error instanceof TransactionConflictError) ? event.error.reason : 'unknown';
      retried.emit({ reason, attempt: event.attempt, delayMs: event.delay });
    });
  }

  const busy = (detail: string): ResourceExhaustedError =>
    new ResourceExhaustedError('DATABASE_BUSY', `all database connections are busy and ${detail}; retry with backoff`);

  /** Runs in a bulkhead slot, waiting in its queue at most bulkheadQueueTimeoutMs (cockatiel's queue has no wait bound). */
  const withSlot = <T>(work: () => Promise<T>): Promise<T> => {
    if (limiter.executionSlots > 0) return limiter.execute(work);
    if (limiter.queueSlots === 0) {
      rejected.emit('queue-full');
      return Promise.reject(busy('the wait queue is full'));
    }
    const abandon = new AbortController();
    let waiting = true;
    const leaveQueue = (): void => {
      if (!waiting) return;
      waiting = false;
      queued--;
      clearTimeout(timer);
    };
    queued++;
    const timer = setTimeout(() => {
      leaveQueue();
      // An aborted queue entry is skipped by the bulkhead when its turn comes.
      abandon.abort();
      rejected.emit('queue-timeout');
      rejectWait(busy(`none freed up within ${config.bulkheadQueueTimeoutMs} ms`));
    }, config.bulkheadQueueTimeoutMs);
    let rejectWait: (error: Error) => void = () => undefined;
    const timedOut = new Promise<never>((_, reject) => {
      rejectWait = reject;
    });
    const running = limiter
      .execute(() => {
        leaveQueue();
        return work();
      }, abandon.signal)
      .catch((error: unknown) => {
        leaveQueue();
        // A caller can overtake a queued one between cockatiel's release and dequeue; report it as busy too.
        if (error instanceof BulkheadRejectedError || error instanceof TaskCancelledError) throw busy('the wait queue is full');
        throw error;
      });
    running.catch(() => undefined);
    timedOut.catch(() => undefined);
    return Promise.race([running, timedOut]);
  };

  const withBudget = async <T>(deadline: number, work: (budgetMs: number) => Promise<T>): Promise<T> => {
    const budget = deadline - Date.now();
    if (budget < config.minBudgetMs) throw new DeadlineExceededError(`only ${Math.max(0, budget)} ms left before the deadline; not starting database work`);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceededError('the deadline passed while waiting for the database')), budget);
    });
    try {
      return await Promise.race([work(budget), expired]);
    } finally {
      clearTimeout(timer);
    }
  };

  const translatePolicyError = (error: unknown): unknown => {
    if (error instanceof IsolatedCircuitError) {
      return new UnavailableError('CIRCUIT_ISOLATED', 'database access is switched off by an operator (circuit isolated); retry later');
    }
    if (error instanceof BrokenCircuitError) {
      const retryAfterMs = Math.max(0, openedAt + config.breakerHalfOpenAfterMs - Date.now());
      return new UnavailableError(
        'CIRCUIT_OPEN',
        `database circuit breaker is open after repeated connection failures; failing fast, retry in ${retryAfterMs} ms`,
        {
          retryAfterMs,
        },
      );
    }
    return error;
  };

  return {
    onBreakerStateChange: breakerChanged.addListener,
    onRetry: retried.addListener,
    onBulkheadRejected: rejected.addListener,
    async execute(kind, deadline, work) {
      const retryPolicy = kind === 'write' ? retryNotExecuted : retryAnyTransient;
      try {
        return await retryPolicy.execute(({ attempt }) => {
          // A retry must not start without time left for it: give up with DEADLINE_EXCEEDED.
          if (attempt > 0 && deadline - Date.now() < config.minBudgetMs) throw new DeadlineExceededError('the deadline passed while retrying the database');
          return breaker.execute(() => withSlot(() => withBudget(deadline, work)));
        });
      } catch (error) {
        throw translatePolicyError(error);
      }
    },
    breakerState: () => STATE_NAMES[breaker.state],
    isolate() {
      isolation ??= breaker.isolate();
    },
    reset() {
      isolation?.dispose();
      isolation = undefined;
      if (breaker.state !== CircuitState.Closed) {
        breaker = buildBreaker();
        breakerChanged.emit('closed');
      }
    },
    load: () => ({ running: config.bulkheadLimit - limiter.executionSlots, queued }),
  };
}
