import {
  bulkhead,
  BulkheadRejectedError,
  EventEmitter,
  TaskCancelledError,
  type BulkheadPolicy,
  type Event,
  type IDefaultPolicyContext,
  type IPolicy,
} from 'cockatiel';

export type QueueRejection = 'queue-full' | 'queue-timeout' | 'deadline';

const MESSAGES: Record<QueueRejection, (maxWaitMs: number, retryAfterMs: number) => string> = {
  'queue-full': () => 'the wait queue is full',
  'queue-timeout': (maxWaitMs) => `no slot freed up within ${maxWaitMs} ms`,
  deadline: (_, retryAfterMs) => `the expected wait (about ${retryAfterMs} ms) does not fit in the time left`,
};

/**
 * The bulkhead refused the work: its queue was full, no slot freed up within
 * the wait bound, or the expected wait did not fit before the caller's
 * deadline. The work never ran. `retryAfterMs`: about when the queue ahead
 * will have drained.
 */
export class QueueRejectedError extends Error {
  constructor(
    readonly reason: QueueRejection,
    readonly maxWaitMs: number,
    readonly retryAfterMs: number,
  ) {
    super(MESSAGES[reason](maxWaitMs, retryAfterMs));
    this.name = 'QueueRejectedError';
  }
}

/** Weight of the newest service time in the moving average. */
const SERVICE_TIME_WEIGHT = 0.1;

/**
 * cockatiel's bulkhead (`limit` running, `queue` waiting) with what it lacks:
 * a bound on the wait in its queue, and admission by deadline. A call that
 * waited `maxWaitMs` leaves the queue with QueueRejectedError and its work
 * never runs (cockatiel skips an aborted queue entry when its turn comes).
 * Through `admitting(deadline)`, a call that would have to queue is refused
 * at once when its expected wait (the queue ahead of it times the measured
 * service time, over `limit` slots) plus its own service time would not fit
 * before its deadline (README "Bulkhead and RESOURCE_EXHAUSTED"). `queue`
 * stays a hard cap on waiters.
 */
export class BoundedWaitBulkheadPolicy implements IPolicy {
  declare readonly _altReturn: never;
  readonly #inner: BulkheadPolicy;
  readonly #rejected = new EventEmitter<QueueRejection>();
  #queued = 0;

  /** Fires for each refused call, with why. */
  readonly onRejected: Event<QueueRejection> = this.#rejected.addListener;

  constructor(
    readonly limit: number,
    queue: number,
    readonly maxWaitMs: number,
  ) {
    this.#inner = bulkhead(limit, queue);
  }

  get onSuccess() {
    return this.#inner.onSuccess;
  }

  get onFailure() {
    return this.#inner.onFailure;
  }

  /** Moving average of how long work holds a slot, ms (0 until measured). */
  #serviceMs = 0;

  /** Work running and waiting now. */
  load(): { running: number; queued: number } {
    return { running: this.limit - this.#inner.executionSlots, queued: this.#queued };
  }

  /** The measured service time, ms: how long work has held a slot lately. */
  serviceTimeMs(): number {
    return this.#serviceMs;
  }

  /** This bulkhead, admitting each call only while its expected wait fits before `deadline` (epoch ms). */
  admitting(deadline: number): IPolicy {
    return {
      _altReturn: undefined as never,
      onSuccess: this.onSuccess,
      onFailure: this.onFailure,
      execute: (fn, signal) => this.#execute(fn, signal, deadline),
    };
  }

  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    return this.#execute(fn, signal, undefined);
  }

  #execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal: AbortSignal | undefined, deadline: number | undefined): Promise<T> {
    const timed = (context: IDefaultPolicyContext): Promise<T> => this.#timed(fn, context);
    if (this.#inner.executionSlots > 0) return this.#inner.execute(timed, signal);
    if (this.#inner.queueSlots === 0) return Promise.reject(this.#reject('queue-full'));
    if (deadline !== undefined && Date.now() + this.#expectedWaitMs() + this.#serviceMs > deadline) return Promise.reject(this.#reject('deadline'));
    return this.#wait(timed, signal);
  }

  /** How long a call joining the queue now should wait for a slot: each slot frees up about once per service time. */
  #expectedWaitMs(): number {
    return ((this.#queued + 1) * this.#serviceMs) / this.limit;
  }

  async #timed<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, context: IDefaultPolicyContext): Promise<T> {
    const started = performance.now();
    try {
      return await fn(context);
    } finally {
      const ms = performance.now() - started;
      this.#serviceMs = this.#serviceMs === 0 ? ms : this.#serviceMs + SERVICE_TIME_WEIGHT * (ms - this.#serviceMs);
    }
  }

  #reject(reason: QueueRejection): QueueRejectedError {
    this.#rejected.emit(reason);
    return new QueueRejectedError(reason, this.maxWaitMs, Math.max(1, Math.ceil(this.#expectedWaitMs())));
  }

  #wait<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal: AbortSignal | undefined): Promise<T> {
    const abandon = new AbortController();
    let waiting = true;
    const leaveQueue = (): void => {
      if (!waiting) return;
      waiting = false;
      this.#queued--;
      clearTimeout(timer);
    };
    this.#queued++;
    let rejectWait: (error: Error) => void = () => undefined;
    const timedOut = new Promise<never>((_, reject) => {
      rejectWait = reject;
    });
    const timer = setTimeout(() => {
      leaveQueue();
      abandon.abort();
      rejectWait(this.#reject('queue-timeout'));
    }, this.maxWaitMs);
    const running = this.#inner
      .execute(
        (context) => {
          leaveQueue();
          return fn(context);
        },
        signal === undefined ? abandon.signal : AbortSignal.any([signal, abandon.signal]),
      )
      .catch((error: unknown) => {
        leaveQueue();
        // A caller can overtake a queued one between cockatiel's release and dequeue: that is a full queue too.
        if (error instanceof BulkheadRejectedError || error instanceof TaskCancelledError)
          throw new QueueRejectedError('queue-full', this.maxWaitMs, Math.max(1, Math.ceil(this.#expectedWaitMs())));
        throw error;
      });
    running.catch(() => undefined);
    timedOut.catch(() => undefined);
    return Promise.race([running, timedOut]);
  }
}
