/** A grpc.health.v1 status this service publishes. */
export type HealthState = 'SERVING' | 'NOT_SERVING';

type Listener = (status: HealthState) => void;

/**
 * The statuses published through grpc.health.v1, by service name. The names
 * are the service's own (set before it serves); a name a client asks for is
 * never stored, so Watch and Check of arbitrary names cost nothing that
 * outlives the call. Listeners hear real changes only.
 */
export class ServingStatus {
  readonly #current = new Map<string, HealthState>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #frozen = false;

  constructor(initial: Readonly<Record<string, HealthState>>) {
    for (const [name, status] of Object.entries(initial)) this.set(name, status);
  }

  set(name: string, status: HealthState): void {
    if (this.#frozen || this.#current.get(name) === status) return;
    this.#current.set(name, status);
    for (const listener of this.#listeners.get(name) ?? []) listener(status);
  }

  get(name: string): HealthState | undefined {
    return this.#current.get(name);
  }

  /** Every published name and its status (grpc.health.v1 List). */
  entries(): [string, HealthState][] {
    return [...this.#current];
  }

  /**
   * Calls `listener` on every change of `name`; returns the unsubscribe. For
   * a name this service does not publish, stores nothing and returns undefined.
   */
  subscribe(name: string, listener: Listener): (() => void) | undefined {
    if (!this.#current.has(name)) return undefined;
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(name);
    };
  }

  /** Shutdown: Watch streams are being ended, so no further status may be written to them. */
  freeze(): void {
    this.#frozen = true;
  }
}
