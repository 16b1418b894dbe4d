import type { Logger } from 'pino';
import type { ServingStatus } from './ServingStatus';

/**
 * Readiness as the conjunction of named conditions (database connected,
 * breaker not open, critical dependencies healthy, not draining). Publishes
 * SERVING/NOT_SERVING for `readiness`, the overall `""` and every service
 * that needs the database, and logs each change once. `liveness` is not
 * touched here: it never depends on a dependency.
 */
export class ReadinessGate {
  readonly #conditions = new Map<string, boolean>();
  readonly #reasons = new Map<string, string>();
  #ready: boolean | undefined;

  constructor(
    private readonly status: ServingStatus,
    private readonly names: readonly string[],
    private readonly logger: Logger,
    initial: Readonly<Record<string, boolean>>,
  ) {
    for (const [condition, ok] of Object.entries(initial)) this.#conditions.set(condition, ok);
    this.publish();
  }

  set(condition: string, ok: boolean, reason?: string): void {
    this.#conditions.set(condition, ok);
    if (reason !== undefined) this.#reasons.set(condition, reason);
    this.publish();
  }

  get ready(): boolean {
    return [...this.#conditions.values()].every(Boolean);
  }

  /** The conditions currently failing, for health messages and logs. */
  failing(): string[] {
    return [...this.#conditions].filter(([, ok]) => !ok).map(([name]) => name);
  }

  private publish(): void {
    const ready = this.ready;
    const status = ready ? 'SERVING' : 'NOT_SERVING';
    for (const name of this.names) this.status.set(name, status);
    if (this.#ready !== ready) {
      const first = this.#ready === undefined;
      this.#ready = ready;
      const failing = this.failing();
      const reasons = failing.flatMap((c) => (this.#reasons.has(c) ? [`${c}: ${this.#reasons.get(c)}`] : [c]));
      const draining = failing.includes('not-draining');
      this.logger[ready || draining ? 'info' : 'warn'](
        { probe: 'readiness', status, failing: reasons },
        first ? `readiness ${status}` : `readiness changed to ${status}`,
      );
    }
  }
}
