import { NotFoundError } from '../domain/errors';

/** A breaker an operator may act on (the database policy is one). */
export interface OperableBreaker {
  breakerState(): string;
  reset(): void;
  isolate(): void;
}

/** An isolation an operator put in place. */
export interface Isolation {
  readonly since: Date;
  /** When it ends by itself; undefined: until reset. */
  readonly until: Date | undefined;
  readonly reason: string;
}

/** A breaker as operators see it. */
export interface BreakerView {
  readonly dependency: string;
  readonly state: string;
  /** Set while isolated by an operator. */
  readonly isolation: Isolation | undefined;
}

/** A change and what it changed, for the audit. */
export interface BreakerChange {
  readonly before: BreakerView;
  readonly after: BreakerView;
}

/**
 * Operator actions on the circuit breakers, by dependency name: list, reset,
 * and isolate until reset or until an expiry, after which the isolation ends
 * by itself (`onExpired` hears of it, for the audit). Timers are unref'd and
 * cleared by close().
 */
export class CircuitBreakerOperator {
  readonly #isolations = new Map<string, Isolation & { timer: NodeJS.Timeout | undefined }>();

  constructor(
    private readonly breakers: ReadonlyMap<string, OperableBreaker>,
    private readonly onExpired: (dependency: string, change: BreakerChange) => void = () => undefined,
  ) {}

  has(dependency: string): boolean {
    return this.breakers.has(dependency);
  }

  list(): BreakerView[] {
    return [...this.breakers.keys()].sort().map((dependency) => this.view(dependency));
  }

  view(dependency: string): BreakerView {
    const breaker = this.#find(dependency);
    const state = breaker.breakerState();
    const isolation = state === 'isolated' ? this.#isolations.get(dependency) : undefined;
    return { dependency, state, isolation: isolation && { since: isolation.since, until: isolation.until, reason: isolation.reason } };
  }

  /** Closes the breaker now, ending any isolation. */
  reset(dependency: string): BreakerChange {
    const breaker = this.#find(dependency);
    const before = this.view(dependency);
    this.#forget(dependency);
    breaker.reset();
    return { before, after: this.view(dependency) };
  }

  /** Holds the breaker open until reset, or until `until`; a second isolation replaces the first's expiry and reason. */
  isolate(dependency: string, options: { until?: Date; reason: string }): BreakerChange {
    const breaker = this.#find(dependency);
    const before = this.view(dependency);
    this.#forget(dependency);
    breaker.isolate();
    const { until } = options;
    const timer = until === undefined ? undefined : setTimeout(() => this.#expire(dependency), Math.max(0, until.getTime() - Date.now()));
    timer?.unref();
    this.#isolations.set(dependency, { since: new Date(), until, reason: options.reason, timer });
    return { before, after: this.view(dependency) };
  }

  /** Stops the expiry timers (shutdown); isolations stay as they are. */
  close(): void {
    for (const isolation of this.#isolations.values()) clearTimeout(isolation.timer);
  }

  #expire(dependency: string): void {
    const before = this.view(dependency);
    this.#forget(dependency);
    this.#find(dependency).reset();
    this.onExpired(dependency, { before, after: this.view(dependency) });
  }

  #forget(dependency: string): void {
    clearTimeout(this.#isolations.get(dependency)?.timer);
    this.#isolations.delete(dependency);
  }

  #find(dependency: string): OperableBreaker {
    const breaker = this.breakers.get(dependency);
    if (breaker === undefined) throw new NotFoundError('circuit breaker of dependency', dependency);
    return breaker;
  }
}
