import { EventEmitter, type IDefaultPolicyContext, type IFailureEvent, type IPolicy, type ISuccessEvent } from 'cockatiel';

/** What the work gets from the budget policy: the time left before the deadline when it starts. */
export interface BudgetContext extends IDefaultPolicyContext {
  readonly budgetMs: number;
}

/**
 * The deadline cannot be met: `too-short` (less than the minimum left, the
 * work did not start), `retry-too-late` (a retry would start with less than
 * the minimum left), `expired` (the deadline passed while the work ran; it
 * was abandoned).
 */
export class BudgetExhaustedError extends Error {
  constructor(
    readonly phase: 'too-short' | 'retry-too-late' | 'expired',
    readonly leftMs: number,
  ) {
    super(phase === 'expired' ? 'the deadline passed while the work ran' : `only ${Math.max(0, leftMs)} ms left before the deadline`);
    this.name = 'BudgetExhaustedError';
  }
}

/** A signal nobody can abort: for work run without one (cockatiel's policies default to the same). */
const NEVER_ABORTED = new AbortController().signal;

/** Emits cockatiel's success/failure events for a policy of this file. */
class Outcomes {
  readonly success = new EventEmitter<ISuccessEvent>();
  readonly failure = new EventEmitter<IFailureEvent>();

  /** Runs `run`; timed, with its outcome emitted, only while someone listens (as cockatiel's own executor does). */
  track<T>(run: () => Promise<T>): Promise<T> {
    return this.success.size === 0 && this.failure.size === 0 ? run() : this.#timed(run);
  }

  async #timed<T>(run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const value = await run();
      this.success.emit({ duration: performance.now() - started });
      return value;
    } catch (error) {
      this.failure.emit({ duration: performance.now() - started, handled: error instanceof BudgetExhaustedError, reason: { error } });
      throw error;
    }
  }
}

/** Calls `fn` now; a synchronous throw becomes a rejection. */
function attempt<T>(fn: () => PromiseLike<T> | T): Promise<T> {
  // Not an async function: that costs an extra turn per call when `fn` returns a promise (measured: ~1 µs of 3).
  try {
    return Promise.resolve(fn());
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with what the work threw, unchanged
    return Promise.reject(error);
  }
}

/**
 * The deadline budget of one call, as a cockatiel policy: refuses to start
 * work with less than `minBudgetMs` left, gives the work the time left as
 * `budgetMs`, and abandons it at the deadline (BudgetExhaustedError; the work
 * is not cancelled, so it must bound itself, e.g. with statement_timeout from
 * `budgetMs`). One instance per call: the deadline is the call's.
 */
export class DeadlineBudgetPolicy implements IPolicy<BudgetContext> {
  declare readonly _altReturn: never;
  readonly #outcomes = new Outcomes();
  readonly onSuccess = this.#outcomes.success.addListener;
  readonly onFailure = this.#outcomes.failure.addListener;

  /**
   * For just inside a retry: lets the first attempt through and refuses a
   * retry that would start with less than `minBudgetMs` left, before it waits
   * for anything (a breaker trial, a bulkhead slot).
   */
  readonly retryGuard: IPolicy;

  constructor(
    readonly deadline: number,
    readonly minBudgetMs: number,
  ) {
    let attempts = 0;
    const guardOutcomes = new Outcomes();
    this.retryGuard = {
      _altReturn: undefined as never,
      onSuccess: guardOutcomes.success.addListener,
      onFailure: guardOutcomes.failure.addListener,
      execute: <T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, given?: AbortSignal): Promise<T> =>
        guardOutcomes.track(() => {
          attempts++;
          const left = this.left();
          if (attempts > 1 && left < this.minBudgetMs) return Promise.reject(new BudgetExhaustedError('retry-too-late', left));
          return attempt(() => fn({ signal: given ?? NEVER_ABORTED }));
        }),
    };
  }

  /** Time left before the deadline, now. */
  left(): number {
    return this.deadline - Date.now();
  }

  execute<T>(fn: (context: BudgetContext) => PromiseLike<T> | T, given?: AbortSignal): Promise<T> {
    const signal = given ?? NEVER_ABORTED;
    return this.#outcomes.track(() => {
      const budgetMs = this.left();
      if (budgetMs < this.minBudgetMs) return Promise.reject(new BudgetExhaustedError('too-short', budgetMs));
      // One promise settled by whichever comes first, the work or the deadline (cheaper than Promise.race of two).
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new BudgetExhaustedError('expired', 0)), budgetMs);
        attempt(() => fn({ signal, budgetMs })).then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with what the work threw, unchanged
            reject(error);
          },
        );
      });
    });
  }
}
