import { Gauge, type Registry } from 'prom-client';

/** One database endpoint as the metrics show it. */
export interface EndpointSample {
  readonly endpoint: string;
  readonly role: string;
  readonly replayTime: Date | null | undefined;
  readonly bytesBehind: bigint | undefined;
}

const ROLES = ['primary', 'standby', 'fenced', 'foreign', 'unreachable', 'unknown'] as const;

/**
 * The cluster as the service sees it: each endpoint's role, and each
 * standby's lag (bytes behind the primary, last replayed commit time), read
 * from the topology when Prometheus scrapes.
 */
export function trackDatabaseEndpoints(registry: Registry, samples: () => readonly EndpointSample[], generation: () => number): void {
  new Gauge({
    name: 'coaching_db_endpoint_role',
    help: 'Role of each configured database endpoint (1 for its current role).',
    labelNames: ['endpoint', 'role'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of samples()) for (const role of ROLES) this.set({ endpoint: s.endpoint, role }, s.role === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'coaching_db_replication_lag_bytes',
    help: 'WAL bytes a standby has not replayed yet (behind the primary).',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of samples()) if (s.role === 'standby' && s.bytesBehind !== undefined) this.set({ endpoint: s.endpoint }, Number(s.bytesBehind));
    },
  });
  new Gauge({
    name: 'coaching_db_replication_replay_timestamp_seconds',
    help: "Commit time of the last transaction a standby replayed (Unix seconds); time() minus this is the standby's lag in time.",
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of samples()) if (s.role === 'standby' && s.replayTime) this.set({ endpoint: s.endpoint }, s.replayTime.getTime() / 1000);
    },
  });
  new Gauge({
    name: 'coaching_db_primary_generation',
    help: 'How many times this instance changed database primary (failovers, operator choices).',
    registers: [registry],
    collect() {
      this.set(generation());
    },
  });
}
