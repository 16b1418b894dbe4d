import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  EventEmitter,
  handleWhen,
  SamplingBreaker,
  type CircuitBreakerPolicy,
  type Event,
  type IBreaker,
  type IDefaultPolicyContext,
  type IDisposable,
  type IPolicy,
} from 'cockatiel';
import type { BreakerSettings } from '../config/breakerProfiles';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** During gradual recovery: this call was held back to let the dependency warm up (a BrokenCircuitError: fail fast, retry soon). */
export class RecoveryHeldBackError extends BrokenCircuitError {
  constructor(readonly share: number) {
    super(`the circuit breaker is recovering and lets ${Math.round(share * 100)}% of calls through`);
    this.name = 'RecoveryHeldBackError';
  }
}

function createBreaker(settings: BreakerSettings): IBreaker {
  return settings.mode === 'sampling'
    ? new SamplingBreaker({ threshold: settings.failureRate, duration: settings.samplingDurationMs, minimumRps: settings.minimumRps })
    : new ConsecutiveBreaker(settings.consecutiveFailures);
}

/**
 * The circuit breaker of one dependency: cockatiel's breaker with its settings by criticality
 * (config/breakerProfiles.ts), operator isolation and reset, stable state names, gradual recovery
 * (RecoveryHeldBackError): README "Automatic recovery: the circuit breaker".
 */
export class DependencyBreakerPolicy implements IPolicy {
  declare readonly _altReturn: never;
  readonly #changed = new EventEmitter<BreakerState>();
  #breaker: CircuitBreakerPolicy;
  #isolation: IDisposable | undefined;
  #openedAt = 0;
  /** Successes since the trial, while recovering gradually; undefined otherwise. */
  #recovered: number | undefined;
  #credit = 0;
  /** The last state change was to half-open: a close now is the trial's success. */
  #closingAfterTrial = false;

  /** Every state change, after the fact. */
  readonly onStateChange: Event<BreakerState> = this.#changed.addListener;

  constructor(
    readonly settings: BreakerSettings,
    private readonly isFailure: (error: unknown) => boolean,
  ) {
    this.#breaker = this.#build(false);
  }

  get onSuccess() {
    return this.#breaker.onSuccess;
  }

  get onFailure() {
    return this.#breaker.onFailure;
  }

  get state(): BreakerState {
    return this.#recovered === undefined ? STATE_NAMES[this.#breaker.state] : 'half-open';
  }

  /** How long until the next trial (0 when it may come now). */
  retryAfterMs(): number {
    return Math.max(0, this.#openedAt + this.settings.halfOpenAfterMs - Date.now());
  }

  /** Operator action: hold it open until reset. */
  isolate(): void {
    this.#recovered = undefined;
    this.#isolation ??= this.#breaker.isolate();
  }

  /** Operator action: close it (and end an isolation) now. */
  reset(): void {
    this.#isolation?.dispose();
    this.#isolation = undefined;
    const wasRecovering = this.#recovered !== undefined;
    this.#recovered = undefined;
    if (this.#breaker.state !== CircuitState.Closed) {
      this.#breaker = this.#build(false);
      this.#changed.emit('closed');
    } else if (wasRecovering) {
      this.#changed.emit('closed');
    }
  }

  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    if (this.#recovered === undefined) return this.#breaker.execute(fn, signal);
    const share = this.#recovered / this.settings.recoverySuccesses;
    this.#credit += share;
    if (this.#credit < 1) throw new RecoveryHeldBackError(share);
    this.#credit -= 1;
    try {
      const value = await this.#breaker.execute(fn, signal);
      this.#recoveredOnce();
      return value;
    } catch (error) {
      if (this.#recovered !== undefined && this.isFailure(error)) this.#reopen();
      else this.#recoveredOnce();
      throw error;
    }
  }

  #recoveredOnce(): void {
    if (this.#recovered === undefined) return;
    this.#recovered++;
    if (this.#recovered >= this.settings.recoverySuccesses) {
      this.#recovered = undefined;
      this.#changed.emit('closed');
    }
  }

  /** A failure while recovering: open again at once, with a fresh trial after halfOpenAfterMs. */
  #reopen(): void {
    this.#recovered = undefined;
    this.#breaker = this.#build(true);
    this.#openedAt = Date.now();
    this.#changed.emit('open');
  }

  #build(open: boolean): CircuitBreakerPolicy {
    const breaker = createBreaker(this.settings);
    const policy = circuitBreaker(handleWhen(this.isFailure), {
      halfOpenAfter: this.settings.halfOpenAfterMs,
      breaker,
      ...(open && {
        initialState: { ownState: { value: CircuitState.Open, openedAt: Date.now(), attemptNo: 1 }, breakerState: breaker.state },
      }),
    });
    policy.onBreak(() => {
      this.#openedAt = Date.now();
    });
    policy.onStateChange((state) => {
      if (policy !== this.#breaker) return;
      if (state === CircuitState.Closed && this.#isolation === undefined && this.#closingAfterTrial && this.settings.recoverySuccesses > 1) {
        // The trial succeeded: recover gradually instead of closing.
        this.#recovered = 1;
        this.#credit = 0;
        return;
      }
      this.#closingAfterTrial = state === CircuitState.HalfOpen;
      this.#changed.emit(STATE_NAMES[state]);
    });
    return policy;
  }
}
