import type { Logger } from 'pino';
import { createOutageAlerter } from '../alerting/createOutageAlerter';
import { createWebhookNotifier } from '../alerting/createWebhookNotifier';
import type { Config, HealthDependencyConfig } from '../config/config';
import { loadMigrations } from '../db/migrations';
import type { ServiceRegistration } from '../grpc/ServiceRegistration';
import { createHealthApiService, HEALTH_SERVICE_NAME } from '../grpc/healthApiService';
import { createUnaryWrapper } from '../grpc/wrapUnary';
import { createDatabaseCheck } from '../health/checks/databaseCheck';
import { createGrpcServiceCheck } from '../health/checks/grpcServiceCheck';
import { createHttpServiceCheck } from '../health/checks/httpServiceCheck';
import { createHealthMonitor, type HealthMonitor } from '../health/createHealthMonitor';
import type { DependencyCheck, ProbeTracing } from '../health/types';
import type { RequestContext } from '../log/RequestContext';
import type { SecretRegistry } from '../log/SecretRegistry';
import { MIGRATIONS_DIR } from '../paths';
import type { ConfigReload } from './createConfigReload';
import type { PagerLease } from '../alerting/pagerLease';
import type { Database } from './database';
import type { DatabaseEndpoints } from './startDatabaseEndpoints';
import type { ServiceTracing } from '../tracing/startTracing';
import type { Metrics } from './ServiceDeps';

export interface Health {
  readonly monitor: HealthMonitor;
  /** coaching.health.v1.HealthService, for the public server. */
  readonly service: ServiceRegistration;
  /** Stops probing and the webhook. */
  stop(): void;
}

function createCheck(dep: HealthDependencyConfig, inject: ProbeTracing['inject'] | undefined): DependencyCheck {
  return dep.type === 'GRPC_SERVICE' ? createGrpcServiceCheck(dep, inject) : createHttpServiceCheck(dep, inject);
}

/** With tracing, each probe is the root span of its own trace. */
function traced(check: DependencyCheck, probes: ProbeTracing | undefined): DependencyCheck {
  return probes === undefined ? check : { ...check, probe: (signal) => probes.probe(check, () => check.probe(signal)) };
}

/** The dependency monitor (database first, then HEALTH_DEPENDENCIES), its sinks (metrics, the outage alerter and its webhook) and its gRPC API. */
export function createHealth(
  config: Config,
  parts: {
    database: Database;
    reloads: ConfigReload;
    metrics: Metrics;
    logger: Logger;
    secrets: SecretRegistry;
    requestContext: RequestContext | undefined;
    /** Several DB_HOST endpoints: the primary's check follows the primary, one more check per endpoint, a standby stands in. */
    endpoints: DatabaseEndpoints;
    /** Whether this instance pages (the pager lease); undefined: always. */
    pager: PagerLease | undefined;
    tracing: ServiceTracing;
    /** Checks other lifecycle modules contribute (events: `redis`, non-critical). */
    extraChecks?: readonly DependencyCheck[];
  },
): Health {
  const { database, metrics, logger } = parts;
  const { probes } = parts.tracing;
  const alertLogger = logger.child({ module: 'alerting' });
  const { webhookUrl } = config.alerting;
  const webhook =
    webhookUrl === undefined
      ? undefined
      : createWebhookNotifier({
          url: webhookUrl,
          timeoutMs: config.alerting.webhookTimeoutMs,
          maxAttempts: config.alerting.webhookMaxAttempts,
          logger: alertLogger,
          onAttempt: (outcome) => metrics.webhookDelivery(outcome),
          ...(probes !== undefined && { tracing: probes }),
        });
  const alerter = createOutageAlerter({
    threshold: config.health.alertAfterFailures,
    environment: config.appEnv,
    logger: alertLogger,
    countAlert: (dependency, state) => metrics.alert(dependency, state),
    webhook,
    instance: config.alerting.instanceId,
    ...(parts.pager !== undefined && { pages: () => parts.pager!.pages() }),
  });
  const monitor = createHealthMonitor({
    checks: [
      createDatabaseCheck({
        db: () => parts.endpoints.aim(parts.reloads.current().db),
        pool: () => database.pools.current(),
        poolSnapshot: database.instrumentation.snapshot,
        expectedSchemaVersion: loadMigrations(MIGRATIONS_DIR).length,
        circuitState: () => database.policy.breakerState(),
      }),
      ...parts.endpoints.healthChecks,
      ...config.health.dependencies.map((dep) => createCheck(dep, probes?.inject)),
      // The OTLP collector (non-critical), when tracing is on.
      ...(parts.tracing.collectorCheck === undefined ? [] : [parts.tracing.collectorCheck]),
      // Checks of other lifecycle modules (events: `redis`, non-critical).
      ...(parts.extraChecks ?? []),
    ].map((check) => traced(check, probes)),
    ...(parts.endpoints.standIns !== undefined && { standIns: parts.endpoints.standIns }),
    environment: config.appEnv,
    historySize: config.health.historySize,
    failingCheckIntervalMs: config.health.failingCheckIntervalMs,
    logger,
    sanitize: (text) => parts.secrets.scrub(text),
    sinks: [metrics, { probed: (record) => alerter.observe(record) }],
  });
  const wrap = createUnaryWrapper({
    logger: logger.child({ module: 'rpc' }),
    observe: metrics.rpcObserver(HEALTH_SERVICE_NAME),
    requestContext: parts.requestContext,
    tracer: parts.tracing.rpc(HEALTH_SERVICE_NAME),
  });
  return {
    monitor,
    service: createHealthApiService(monitor, wrap),
    stop() {
      monitor.stop();
      webhook?.close();
    },
  };
}
