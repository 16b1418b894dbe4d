import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProbeRecord } from '../health/DependencyMonitor';
import type { HealthSink } from '../health/HealthSink';
import type { HealthStatus } from '../health/types';
import { LATENCY_BUCKETS, seconds } from './buckets';

const STATUSES: readonly HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'];

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

/** Per-dependency probe results, overall health and readiness, outage alerts and their webhook. */
export function createHealthMetrics(registry: Registry): HealthMetrics {
  const registers = [registry];
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

  const probe = (sample: ProbeSample): void => {
    const { dependency } = sample;
    dependencyUp.set({ dependency, type: sample.type, critical: String(sample.critical) }, sample.status === 'UNHEALTHY' ? 0 : 1);
    for (const status of STATUSES) dependencyStatus.set({ dependency, status }, status === sample.status ? 1 : 0);
    consecutiveFailures.set({ dependency }, sample.consecutiveFailures);
    probeSeconds.observe({ dependency }, seconds(sample.durationMs));
    if (sample.errorCode !== '') probeFailures.inc({ dependency, type: sample.errorCode });
  };

  return {
    probe,
    /** The HealthSink side: one probe record as metrics. */
    probed({ check, current, durationMs }: ProbeRecord): void {
      probe({
        dependency: check.name,
        type: check.type,
        critical: check.critical,
        status: current.status!,
        durationMs,
        errorCode: current.errorCode,
        consecutiveFailures: current.consecutiveFailures,
      });
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

/** The health metrics: a HealthSink (probe records, overall status) plus the alerting counters. */
export interface HealthMetrics extends Required<HealthSink> {
  probe(sample: ProbeSample): void;
  alert(dependency: string, state: 'firing' | 'resolved'): void;
  webhookDelivery(outcome: 'delivered' | 'retried' | 'failed'): void;
}
