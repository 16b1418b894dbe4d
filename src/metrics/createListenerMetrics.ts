import { Counter, Gauge, type Registry } from 'prom-client';

/** Which gRPC listener: the public port or the admin listener. */
export type ListenerName = 'public' | 'admin';

/** Metrics of the gRPC listeners: TLS certificates, ping enforcement, health Watch streams, admin actions. */
export function createListenerMetrics(registry: Registry) {
  const registers = [registry];
  const certificateExpiry = new Gauge({
    name: 'coaching_tls_certificate_expiry_timestamp_seconds',
    help: 'Expiry (notAfter, Unix seconds) of the TLS certificate a gRPC listener serves.',
    labelNames: ['listener'] as const,
    registers,
  });
  const certificateLoads = new Counter({
    name: 'coaching_tls_certificate_loads_total',
    help: 'TLS certificate (re)loads of a gRPC listener: outcome "ok" (in use) or "refused" (unusable files; the previous certificate stays).',
    labelNames: ['listener', 'outcome'] as const,
    registers,
  });
  const pingViolations = new Counter({
    name: 'coaching_grpc_ping_violations_total',
    help: 'Connections closed with GOAWAY "too_many_pings" for breaking the keepalive ping policy.',
    labelNames: ['listener'] as const,
    registers,
  });
  const policyCloses = new Counter({
    name: 'coaching_grpc_connection_policy_closes_total',
    help: 'Connections and streams the connection policy closed, by reason: connection_refused (over GRPC_MAX_CONNECTIONS), handshake_timeout, buffered_bytes, request_message_timeout.',
    labelNames: ['listener', 'reason'] as const,
    registers,
  });
  const watchSources = new Map<ListenerName, () => number>();
  new Gauge({
    name: 'coaching_grpc_health_watch_streams',
    help: 'Open grpc.health.v1 Watch streams by listener.',
    labelNames: ['listener'] as const,
    registers,
    collect() {
      for (const [listener, count] of watchSources) this.set({ listener }, count());
    },
  });
  const adminActions = new Counter({
    name: 'coaching_admin_actions_total',
    help: 'Admin listener calls (audited), by action, target, outcome (ok, denied, failed) and the state before and after.',
    labelNames: ['action', 'target', 'outcome', 'from_state', 'to_state'] as const,
    registers,
  });

  return {
    certificateLoaded: (listener: ListenerName, ok: boolean, notAfter: Date | undefined): void => {
      certificateLoads.inc({ listener, outcome: ok ? 'ok' : 'refused' });
      if (notAfter !== undefined) certificateExpiry.set({ listener }, Math.floor(notAfter.getTime() / 1000));
    },
    pingViolation: (listener: ListenerName): void => {
      pingViolations.inc({ listener });
    },
    connectionPolicy: (listener: ListenerName, reason: string): void => {
      policyCloses.inc({ listener, reason });
    },
    trackWatches: (listener: ListenerName, count: () => number): void => {
      watchSources.set(listener, count);
    },
    adminAction: (labels: { action: string; target: string; outcome: string; fromState: string; toState: string }): void => {
      adminActions.inc({ action: labels.action, target: labels.target, outcome: labels.outcome, from_state: labels.fromState, to_state: labels.toState });
    },
  };
}

export type ListenerMetrics = ReturnType<typeof createListenerMetrics>;
