import { status as grpcStatus } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueryObserver } from '../db/DatabaseGateway';
import { databaseFailureCode } from '../db/failureCode';
import { DeadlineExceededError, DomainError, ResourceExhaustedError, UnavailableError } from '../domain/errors';
import type { PoolObserver, PoolSnapshot } from '../db/poolInstrumentation';
import type { CallObserver } from '../grpc/wrapUnary';
import type { HealthStatus } from '../health/types';

const STATUSES: readonly HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const seconds = (ms: number): number => ms / 1000;

/** ok; rejected: the work ended in a business outcome (not found, conflict); error: the database failed. */
function outcomeOf(error: unknown): 'ok' | 'rejected' | 'error' {
  if (error === undefined) return 'ok';
  const failure =
    !(error instanceof DomainError) || error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof ResourceExhaustedError;
  return failure ? 'error' : 'rejected';
}

/** One probe result as the metrics need it. */
export interface ProbeSample {
  readonly dependency: string;
  readonly type: string;
  readonly critical: boolean;
  readonly status: HealthStatus;
  readonly durationMs: number;
  readonly errorCode: string;
  readonly consecutiveFailures: number;
}

/**
 * Every metric the service exports, registered on the registry the
 * composition root created (never prom-client's global one), with typed
 * hooks for the parts that feed them. Names follow Prometheus conventions:
 * base units (seconds), `_total` counters, `grpc_server_*` as in
 * go-grpc-prometheus so that stock dashboards work.
 */
export function createServiceMetrics(registry: Registry) {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges "_total", which promtool (rightly) rejects;
  // nodejs_active_{handles,requests,resources} by type carry the same data.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);

  const rpcHandled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'RPCs completed on the server, by service, method and status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers,
  });
  const rpcSeconds = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time to handle an RPC on the server, by service and method.',
    labelNames: ['grpc_service', 'grpc_method'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const querySeconds = new Histogram({
    name: 'coaching_db_operation_duration_seconds',
    help: 'Time of a unit of database work (one read, or one write transaction), by operation and outcome (ok, rejected, error).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const dbErrors = new Counter({
    name: 'coaching_db_errors_total',
    help: 'Database failures by stage (connect: opening a connection; query: a unit of work) and stable type, e.g. AUTH_FAILED, CONNECTION_REFUSED.',
    labelNames: ['stage', 'type'] as const,
    registers,
  });
  const acquireSeconds = new Histogram({
    name: 'coaching_db_pool_acquire_duration_seconds',
    help: 'Time a caller waited for a pooled connection (includes opening a new one).',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const poolWaits = new Counter({
    name: 'coaching_db_pool_waits_total',
    help: 'Connection requests that found the pool full and queued for a connection.',
    registers,
  });
  const connectSeconds = new Histogram({
    name: 'coaching_db_connection_establish_duration_seconds',
    help: 'Time to open a new physical database connection, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  let poolSnapshot: () => PoolSnapshot | undefined = () => undefined;
  const poolGauge = (name: string, help: string, read: (s: PoolSnapshot) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const snapshot = poolSnapshot();
        if (snapshot !== undefined) this.set(read(snapshot));
      },
    });
  };
  poolGauge('coaching_db_pool_max_connections', 'Most connections the pool opens (DB_MAX_CONNECTIONS).', (s) => s.max);
  poolGauge('coaching_db_pool_active_connections', 'Pooled connections checked out by callers.', (s) => s.active);
  poolGauge('coaching_db_pool_idle_connections', 'Open pooled connections waiting for a caller.', (s) => s.idle);
  poolGauge('coaching_db_pool_waiting_clients', 'Callers queued for a pooled connection.', (s) => s.waiting);
  poolGauge('coaching_db_pool_utilization_ratio', 'Active connections divided by the pool maximum (0 to 1).', (s) => s.active / s.max);

  const dependencyUp = new Gauge({
    name: 'coaching_health_dependency_up',
    help: '1 when the latest probe of the dependency found it reachable (HEALTHY or DEGRADED), else 0.',
    labelNames: ['dependency', 'type', 'critical'] as const,
    registers,
  });
  const dependencyStatus = new Gauge({
    name: 'coaching_health_dependency_status',
    help: 'Latest probe status of each dependency: 1 for the current status, 0 for the others.',
    labelNames: ['dependency', 'status'] as const,
    registers,
  });
  const consecutiveFailures = new Gauge({
    name: 'coaching_health_dependency_consecutive_failures',
    help: 'Failed probes in a row of each dependency.',
    labelNames: ['dependency'] as const,
    registers,
  });
  const probeSeconds = new Histogram({
    name: 'coaching_health_probe_duration_seconds',
    help: 'Time of one background probe, by dependency.',
    labelNames: ['dependency'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const probeFailures = new Counter({
    name: 'coaching_health_probe_failures_total',
    help: 'Failed or degraded probes, by dependency and stable error type.',
    labelNames: ['dependency', 'type'] as const,
    registers,
  });
  const overallStatus = new Gauge({
    name: 'coaching_health_status',
    help: 'Overall service health: 1 for the current status, 0 for the others.',
    labelNames: ['status'] as const,
    registers,
  });
  const ready = new Gauge({ name: 'coaching_health_ready', help: '1 while grpc.health.v1 "readiness" is SERVING, else 0.', registers });
  const alerts = new Counter({
    name: 'coaching_health_alerts_total',
    help: 'Outage notifications raised, by dependency and state (firing or resolved).',
    labelNames: ['dependency', 'state'] as const,
    registers,
  });
  const alertFiring = new Gauge({
    name: 'coaching_health_alert_firing',
    help: '1 while an outage alert of the dependency is firing, else 0.',
    labelNames: ['dependency'] as const,
    registers,
  });
  const webhookDeliveries = new Counter({
    name: 'coaching_alert_webhook_deliveries_total',
    help: 'Alert webhook attempts by outcome (delivered, retried, failed).',
    labelNames: ['outcome'] as const,
    registers,
  });

  const observeQuery: QueryObserver = (operation, durationMs, error) => {
    const outcome = outcomeOf(error);
    querySeconds.observe({ operation, outcome }, seconds(durationMs));
    if (outcome === 'error') dbErrors.inc({ stage: 'query', type: databaseFailureCode(error) });
  };
  const poolObserver: PoolObserver = {
    acquired(waitMs, queued) {
      acquireSeconds.observe(seconds(waitMs));
      if (queued) poolWaits.inc();
    },
    connected(durationMs, error) {
      connectSeconds.observe({ outcome: error === undefined ? 'ok' : 'error' }, seconds(durationMs));
      if (error !== undefined) dbErrors.inc({ stage: 'connect', type: databaseFailureCode(error) });
    },
  };

  return {
    registry,
    observeQuery,
    poolObserver,
    /** A CallObserver (createUnaryWrapper's `observe`) labelling calls with their service. */
    rpcObserver(service: string): CallObserver {
      return (method, code, durationMs) => {
        rpcHandled.inc({ grpc_service: service, grpc_method: method, grpc_code: grpcStatus[code] ?? String(code) });
        rpcSeconds.observe({ grpc_service: service, grpc_method: method }, seconds(durationMs));
      };
    },
    /** Pool gauges read this at scrape time. */
    trackPool(snapshot: () => PoolSnapshot | undefined): void {
      poolSnapshot = snapshot;
    },
    probe(sample: ProbeSample): void {
      const { dependency } = sample;
      dependencyUp.set({ dependency, type: sample.type, critical: String(sample.critical) }, sample.status === 'UNHEALTHY' ? 0 : 1);
      for (const status of STATUSES) dependencyStatus.set({ dependency, status }, status === sample.status ? 1 : 0);
      consecutiveFailures.set({ dependency }, sample.consecutiveFailures);
      probeSeconds.observe({ dependency }, seconds(sample.durationMs));
      if (sample.errorCode !== '') probeFailures.inc({ dependency, type: sample.errorCode });
    },
    overall(status: HealthStatus, isReady: boolean): void {
      for (const s of STATUSES) overallStatus.set({ status: s }, s === status ? 1 : 0);
      ready.set(isReady ? 1 : 0);
    },
    alert(dependency: string, state: 'firing' | 'resolved'): void {
      alerts.inc({ dependency, state });
      alertFiring.set({ dependency }, state === 'firing' ? 1 : 0);
    },
    webhookDelivery(outcome: 'delivered' | 'retried' | 'failed'): void {
      webhookDeliveries.inc({ outcome });
    },
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
