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

/** Emits cockatiel's success/failure events for a policy of this file. */
class Outcomes {
  readonly success = new EventEmitter<ISuccessEvent>();
  readonly failure = new EventEmitter<IFailureEvent>();

  async track<T>(run: () => Promise<T>): Promise<T> {
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
        guardOutcomes.track(async () => {
          attempts++;
          const left = this.left();
          if (attempts > 1 && left < this.minBudgetMs) throw new BudgetExhaustedError('retry-too-late', left);
          return fn({ signal: given ?? new AbortController().signal });
        }),
    };
  }

  /** Time left before the deadline, now. */
  left(): number {
    return this.deadline - Date.now();
  }

  execute<T>(fn: (context: BudgetContext) => PromiseLike<T> | T, given?: AbortSignal): Promise<T> {
    const signal = given ?? new AbortController().signal;
    return this.#outcomes.track(async () => {
      const budgetMs = this.left();
      if (budgetMs < this.minBudgetMs) throw new BudgetExhaustedError('too-short', budgetMs);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BudgetExhaustedError('expired', 0)), budgetMs);
      });
      try {
        return await Promise.race([Promise.resolve(fn({ signal, budgetMs })), expired]);
      } finally {
        clearTimeout(timer);
      }
    });
  }
}
