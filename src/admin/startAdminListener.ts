import type { Logger } from 'pino';
import type { AdminConfig, GrpcLimitsConfig } from '../config/config';
import { createGrpcServer } from '../grpc/createGrpcServer';
import { createListenerCredentials, reportCertificateLoads } from '../grpc/tls/serverCredentials';
import { createUnaryWrapper, type CallTracer } from '../grpc/wrapUnary';
import type { RequestContext } from '../log/RequestContext';
import type { ServiceMetrics } from '../metrics/createServiceMetrics';
import { ADMIN_SERVICE_NAME, createAdminService, expiredIsolationEntry, type DatabaseEndpointOperator } from './createAdminService';
import { AdminToken, type SecretSink } from './AdminToken';
import type { DeadLetters } from '../events/createDeadLetters';
import { createAuditLog } from './auditLog';
import { CircuitBreakerOperator, type OperableBreaker } from './CircuitBreakerOperator';

export interface AdminListenerDeps {
  readonly config: AdminConfig;
  /** The public listener's limits apply here too. */
  readonly limits: GrpcLimitsConfig;
  readonly descriptorSetPath: string;
  /** Circuit breakers operators may reset or isolate, by dependency name. */
  readonly breakers: ReadonlyMap<string, OperableBreaker>;
  /** The event stream's dead letters; undefined without REDIS_URL. */
  readonly deadLetters?: DeadLetters;
  /** The database endpoints (several DB_HOST entries): listing and the fencing override. */
  readonly endpoints?: DatabaseEndpointOperator;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly secrets: SecretSink;
  readonly requestContext?: RequestContext;
  /** Server spans of the admin calls (the audit lines they write carry the trace id); absent when tracing is off. */
  readonly tracer?: CallTracer | undefined;
}

/** The running admin listener. */
export interface AdminListener {
  readonly port: number;
  readonly operator: CircuitBreakerOperator;
  /** Re-reads the admin token and certificate files now (SIGHUP). */
  reload(): void;
  /** Ends Watch streams, lets calls finish (bounded), stops timers and file watches. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Starts coaching.admin.v1.AdminService on its own listener
 * (ADMIN_GRPC_HOST:ADMIN_GRPC_PORT), with its own grpc.health.v1 and
 * reflection, the optional admin token and TLS/mTLS. Undefined when
 * ADMIN_GRPC_ENABLED=false. Throws at start when the token or certificate
 * files are unusable.
 */
export async function startAdminListener(deps: AdminListenerDeps): Promise<AdminListener | undefined> {
  const { config, metrics } = deps;
  if (!config.enabled) return undefined;
  const logger = deps.logger.child({ module: 'admin' });
  const audit = createAuditLog({ logger, count: metrics.adminAction });
  const token = new AdminToken(config.tokenFile, { secrets: deps.secrets, logger });
  const operator = new CircuitBreakerOperator(deps.breakers, (dependency, change) =>
    audit(expiredIsolationEntry(dependency, change.before.state, change.after.state)),
  );
  const tls = createListenerCredentials(config.tls, reportCertificateLoads('admin', logger, metrics.certificateLoaded));
  const wrap = createUnaryWrapper({
    logger: deps.logger.child({ module: 'rpc' }),
    observe: metrics.rpcObserver(ADMIN_SERVICE_NAME),
    requestContext: deps.requestContext,
    tracer: deps.tracer,
  });
  const grpc = createGrpcServer({
    services: [
      createAdminService({ operator, deadLetters: deps.deadLetters, token, audit, wrap, ...(deps.endpoints !== undefined && { endpoints: deps.endpoints }) }),
    ],
    descriptorSetPath: deps.descriptorSetPath,
    limits: deps.limits,
    credentials: tls.credentials,
    onPingViolation: () => metrics.pingViolation('admin'),
    onConnectionPolicy: (reason) => metrics.connectionPolicy('admin', reason),
  });
  grpc.status.set('', 'SERVING');
  grpc.status.set(ADMIN_SERVICE_NAME, 'SERVING');
  metrics.trackWatches('admin', () => grpc.health.openWatches());
  let port: number;
  try {
    port = await grpc.listen(config.host, config.port);
  } catch (error) {
    tls.close();
    throw error;
  }
  token.watch();
  logger.info(
    { admin: `${config.host}:${port}`, tls: tls.secure, clientAuth: config.tls?.clientAuth ?? 'none', tokenRequired: token.required },
    'admin listener serving coaching.admin.v1.AdminService',
  );
  return {
    port,
    operator,
    reload() {
      token.reload();
      tls.reload();
    },
    async stop(timeoutMs) {
      operator.close();
      token.close();
      tls.close();
      await grpc.shutdown(timeoutMs);
    },
  };
}
