import { setTimeout as delay } from 'node:timers/promises';
import type { BreakerState } from './DependencyBreakerPolicy';

export interface HalfOpenProberOptions {
  /** The breaker's state now. */
  readonly state: () => BreakerState;
  /** One trial call through the breaker (its failure is expected and ignored). */
  readonly probe: () => Promise<unknown>;
  /** Pause before each trial: the breaker's half-open delay. */
  readonly intervalMs: number;
  readonly signal: AbortSignal;
}

/**
 * With no traffic an open breaker never gets its half-open trial (nor the
 * successes of a gradual recovery): until it closes, send one every `intervalMs`. `start()` is idempotent while a loop runs.
 */
export class HalfOpenProber {
  #running = false;

  constructor(private readonly options: HalfOpenProberOptions) {}

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    void this.#loop();
  }

  /** Open, or half-open (a trial, or a gradual recovery that needs successes): a probe helps it close. */
  #unsettled(): boolean {
    const state = this.options.state();
    return state === 'open' || state === 'half-open';
  }

  async #loop(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { signal } = this.options;
    try {
      while (!signal.aborted && this.#unsettled()) {
        await delay(this.options.intervalMs, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) break;
        await this.options.probe().catch(() => undefined);
      }
    } finally {
      this.#running = false;
    }
  }
}
