import type { ServingStatus } from './ServingStatus';

/**
 * Readiness as the conjunction of named conditions (database connected,
 * breaker not open, not draining, ...). Publishes SERVING/NOT_SERVING for
 * `readiness`, the overall `""` and every served service name; `liveness`
 * is not touched here.
 */
export class ReadinessGate {
  readonly #conditions = new Map<string, boolean>();

  constructor(
    private readonly status: ServingStatus,
    private readonly names: readonly string[],
  ) {}

  set(condition: string, ok: boolean): void {
    this.#conditions.set(condition, ok);
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
    const status = this.ready ? 'SERVING' : 'NOT_SERVING';
    for (const name of this.names) this.status.set(name, status);
  }
}
