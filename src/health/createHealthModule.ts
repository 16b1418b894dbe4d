import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { createOutageAlerter } from '../alerting/createOutageAlerter';
import { createWebhookNotifier } from '../alerting/createWebhookNotifier';
import type { Config, DatabaseConfig, HealthDependencyConfig } from '../config/config';
import type { PoolSnapshot } from '../db/poolInstrumentation';
import { HealthServiceService, type HealthServiceServer } from '../generated/coaching/health/v1/health_service';
import type { ServiceRegistration } from '../grpc/createGrpcServer';
import { createHealthHandlers } from '../grpc/handlers/healthHandlers';
import { movedToAdminListener } from '../grpc/handlers/movedToAdminListener';
import { createUnaryWrapper } from '../grpc/wrapUnary';
import type { RequestContext } from '../log/RequestContext';
import type { ServiceMetrics } from '../metrics/createServiceMetrics';
import { createDatabaseCheck } from './checks/databaseCheck';
import { createGrpcServiceCheck } from './checks/grpcServiceCheck';
import { createHttpServiceCheck } from './checks/httpServiceCheck';
import { DependencyMonitor, type ProbeRecord } from './DependencyMonitor';
import { HealthHistory } from './HealthHistory';
import { isReady, summarise } from './summarise';
import type { DependencyCheck, HealthReport } from './types';

export const HEALTH_SERVICE_NAME = 'coaching.health.v1.HealthService';

export interface HealthModuleDeps {
  /** The start configuration; only `db` follows reloads (through `database`). */
  readonly config: Config;
  /** The database settings in force (after reloads). */
  readonly database: () => DatabaseConfig;
  readonly logger: Logger;
  /** The service's pool (probed through, so pool trouble shows). */
  readonly pool: () => DatabasePool;
  readonly poolSnapshot: () => PoolSnapshot | undefined;
  /** Highest migration version this build needs. */
  readonly expectedSchemaVersion: number;
  /** State of the circuit breaker in front of the database ("closed", "open", "half-open", "isolated"), once there is one. */
  readonly databaseCircuitState?: () => string;
  readonly metrics: ServiceMetrics;
  /** Scrubs secrets (registered by the root: config.secretValues) from probe errors. */
  readonly sanitize: (text: string) => string;
  readonly requestContext: RequestContext | undefined;
  /** Checks other modules contribute (the events module's `redis`). */
  readonly extraChecks?: readonly DependencyCheck[];
}

/** Where the module reports whether the critical dependencies allow serving (app.ts: the readiness gate). */
export interface ReadinessSink {
  set(condition: string, ok: boolean, reason?: string): void;
}

export interface HealthModule {
  /** The coaching.health.v1.HealthService registration for createGrpcServer. */
  readonly service: ServiceRegistration;
  /** Probes every dependency once, reports readiness, then keeps probing in the background. */
  start(readiness: ReadinessSink): Promise<void>;
  report(): HealthReport;
  /** The request path saw the database fail: probe it now rather than at the next interval (faster alerts). */
  suspectDatabase(): void;
  stop(): void;
}

function createCheck(dep: HealthDependencyConfig): DependencyCheck {
  return dep.type === 'GRPC_SERVICE' ? createGrpcServiceCheck(dep) : createHttpServiceCheck(dep);
}

/**
 * Health: background probes of the database and the configured upstreams,
 * the cached report and history behind the HealthService API, the
 * grpc.health.v1 liveness/readiness statuses, transition logs, metrics and
 * outage alerts. Nothing here runs on a request path except reading caches.
 */
export function createHealthModule(deps: HealthModuleDeps): HealthModule {
  const { config, metrics } = deps;
  const logger = deps.logger.child({ module: 'health' });
  const alertLogger = deps.logger.child({ module: 'alerting' });
  const { sanitize } = deps;
  const history = new HealthHistory(config.health.historySize);
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
        });
  const alerter = createOutageAlerter({
    threshold: config.health.alertAfterFailures,
    environment: config.appEnv,
    logger: alertLogger,
    countAlert: (dependency, state) => metrics.alert(dependency, state),
    webhook,
  });

  let readiness: ReadinessSink | undefined;
  const report = (): HealthReport => summarise(monitors.map((m) => m.snapshot()));
  const publish = (): void => {
    if (readiness === undefined) return;
    const current = report();
    const ready = isReady(current, false);
    readiness.set('critical-dependencies-healthy', ready, current.message);
    metrics.overall(current.status, ready);
  };

  const onProbe = (record: ProbeRecord): void => {
    const { check, current, previous, durationMs, finishedAt } = record;
    const status = current.status!;
    history.add({ time: finishedAt, environment: config.appEnv, dependency: check.name, status, latencyMs: durationMs, errorCode: current.errorCode });
    metrics.probe({
      dependency: check.name,
      type: check.type,
      critical: check.critical,
      status,
      durationMs,
      errorCode: current.errorCode,
      consecutiveFailures: current.consecutiveFailures,
    });
    if (previous.status !== status) {
      const fields = { dependency: check.name, critical: check.critical, from: previous.status ?? 'UNKNOWN', to: status };
      const detail = status === 'HEALTHY' ? {} : { errorCode: current.errorCode, error: current.error };
      logger[status === 'HEALTHY' ? 'info' : 'warn']({ ...fields, ...detail }, `${check.name} is ${status}: ${current.message}`);
    }
    alerter.observe(record);
    publish();
  };

  const checks = [
    createDatabaseCheck({
      db: deps.database,
      pool: deps.pool,
      poolSnapshot: deps.poolSnapshot,
      expectedSchemaVersion: deps.expectedSchemaVersion,
      circuitState: deps.databaseCircuitState,
    }),
    ...config.health.dependencies.map(createCheck),
    ...(deps.extraChecks ?? []),
  ];
  const onError = (error: unknown): void => logger.error({ err: error }, 'recording a health probe failed');
  const monitors = checks.map(
    (check) =>
      new DependencyMonitor(check, { failingIntervalMs: Math.min(config.health.failingCheckIntervalMs, check.intervalMs), sanitize, onProbe, onError }),
  );

  const handlers = createHealthHandlers({ report, events: (query) => history.list(query) });
  const wrap = createUnaryWrapper({
    logger: deps.logger.child({ module: 'rpc' }),
    observe: metrics.rpcObserver(HEALTH_SERVICE_NAME),
    requestContext: deps.requestContext,
  });
  const implementation: HealthServiceServer = {
    getHealth: wrap('GetHealth', handlers.getHealth),
    listHealthEvents: wrap('ListHealthEvents', handlers.listHealthEvents),
    // Operator actions moved to the admin listener (coaching.admin.v1.AdminService).
    resetCircuitBreaker: wrap('ResetCircuitBreaker', movedToAdminListener('ResetCircuitBreaker')),
    isolateCircuitBreaker: wrap('IsolateCircuitBreaker', movedToAdminListener('IsolateCircuitBreaker')),
  };

  return {
    service: { name: HEALTH_SERVICE_NAME, definition: HealthServiceService, implementation },
    async start(sink) {
      // Readiness waits for the first probe of every dependency.
      await Promise.all(monitors.map((m) => m.start()));
      readiness = sink;
      publish();
    },
    report,
    suspectDatabase() {
      monitors[0]?.probeSoon();
    },
    stop() {
      for (const monitor of monitors) monitor.stop();
      webhook?.close();
    },
  };
}
