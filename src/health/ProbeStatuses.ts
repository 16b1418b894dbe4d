import type { Logger } from 'pino';

/** Names served through grpc.health.v1 for orchestrator probes. */
export const LIVENESS = 'liveness';
export const READINESS = 'readiness';

type Status = 'SERVING' | 'NOT_SERVING';

/** The part of the grpc.health.v1 status table this class writes (ServingStatus forwards real changes only). */
export interface StatusTable {
  set(name: string, status: Status): void;
}

/**
 * Publishes health as grpc.health.v1 statuses:
 * - `liveness`: SERVING for as long as the process answers. It never looks
 *   at a dependency: restarting the pod does not heal a database. A blocked
 *   event loop cannot answer at all, which is what fails the probe.
 * - `readiness`, `""` and every service that needs the database: SERVING
 *   while ready (critical dependencies reachable, schema current, not
 *   draining).
 * - services that work without dependencies (the health API itself):
 *   SERVING until draining.
 */
export class ProbeStatuses {
  #ready: boolean | undefined;

  constructor(
    private readonly table: StatusTable,
    private readonly services: { readonly needDependencies: readonly string[]; readonly standalone: readonly string[] },
    private readonly logger: Logger,
  ) {
    table.set(LIVENESS, 'SERVING');
  }

  publish(ready: boolean, draining: boolean, reason: string): void {
    const status: Status = ready ? 'SERVING' : 'NOT_SERVING';
    for (const name of [READINESS, '', ...this.services.needDependencies]) this.table.set(name, status);
    for (const name of this.services.standalone) this.table.set(name, draining ? 'NOT_SERVING' : 'SERVING');
    if (this.#ready !== ready) {
      const first = this.#ready === undefined;
      this.#ready = ready;
      const level = ready || draining ? 'info' : 'warn';
      this.logger[level]({ probe: READINESS, status, draining, reason }, first ? `readiness ${status}` : `readiness changed to ${status}`);
    }
  }
}
