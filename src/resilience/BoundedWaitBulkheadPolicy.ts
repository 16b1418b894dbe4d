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

export type QueueRejection = 'queue-full' | 'queue-timeout';

/** The bulkhead refused the work: its queue was full, or no slot freed up within the wait bound. The work never ran. */
export class QueueRejectedError extends Error {
  constructor(
    readonly reason: QueueRejection,
    readonly maxWaitMs: number,
  ) {
    super(reason === 'queue-full' ? 'the wait queue is full' : `no slot freed up within ${maxWaitMs} ms`);
    this.name = 'QueueRejectedError';
  }
}

/**
 * cockatiel's bulkhead (`limit` running, `queue` waiting) with what it lacks:
 * a bound on the wait in its queue. A call that waited `maxWaitMs` leaves the
 * queue with QueueRejectedError and its work never runs (cockatiel skips an
 * aborted queue entry when its turn comes).
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

  /** Work running and waiting now. */
  load(): { running: number; queued: number } {
    return { running: this.limit - this.#inner.executionSlots, queued: this.#queued };
  }

  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    if (this.#inner.executionSlots > 0) return this.#inner.execute(fn, signal);
    if (this.#inner.queueSlots === 0) return Promise.reject(this.#reject('queue-full'));
    return this.#wait(fn, signal);
  }

  #reject(reason: QueueRejection): QueueRejectedError {
    this.#rejected.emit(reason);
    return new QueueRejectedError(reason, this.maxWaitMs);
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
        if (error instanceof BulkheadRejectedError || error instanceof TaskCancelledError) throw new QueueRejectedError('queue-full', this.maxWaitMs);
        throw error;
      });
    running.catch(() => undefined);
    timedOut.catch(() => undefined);
    return Promise.race([running, timedOut]);
  }
}
