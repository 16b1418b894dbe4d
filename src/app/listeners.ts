import type { Logger } from 'pino';
import { ADMIN_SERVICE_NAME } from '../admin/createAdminService';
import { startAdminListener, type AdminListener } from '../admin/startAdminListener';
import type { Config } from '../config/config';
import { DATABASE_DEPENDENCY_NAME } from '../config/healthDependencies';
import { StartupError } from '../db/prepareDatabase';
import type { GrpcServer } from '../grpc/createGrpcServer';
import type { RequestContext } from '../log/RequestContext';
import type { SecretRegistry } from '../log/SecretRegistry';
import { startMetricsServer, type MetricsServer } from '../metrics/startMetricsServer';
import { DESCRIPTOR_SET } from '../paths';
import type { DatabasePolicy } from '../resilience/createDatabasePolicy';
import type { DeadLetters } from '../events/createDeadLetters';
import type { Metrics, StartupScope } from './ServiceDeps';
import type { ServiceTracing } from './tracing';
import type { DatabaseEndpoints } from './startDatabaseEndpoints';

export interface Listeners {
  readonly port: number;
  readonly metricsServer: MetricsServer | undefined;
  readonly admin: AdminListener | undefined;
}

/** Binds the public gRPC port, then /metrics, then the admin listener; whatever is up closes again if a later one fails. */
export async function startListeners(
  config: Config,
  parts: {
    grpc: GrpcServer;
    policy: DatabasePolicy;
    deadLetters: DeadLetters | undefined;
    metrics: Metrics;
    logger: Logger;
    secrets: SecretRegistry;
    requestContext: RequestContext | undefined;
    tracing: ServiceTracing;
    /** Several DB_HOST endpoints: listed and chosen on the admin listener. */
    endpoints: DatabaseEndpoints;
  },
  scope: StartupScope,
): Promise<Listeners> {
  const { grpc, metrics, logger } = parts;
  const port = await grpc.listen(config.grpc.host, config.grpc.port);
  scope.defer(() => grpc.server.forceShutdown());
  const metricsServer = await startMetricsServer(config.metrics, metrics.registry, logger);
  scope.defer(() => metricsServer?.close());
  const admin = await startAdminListener({
    config: config.admin,
    limits: config.grpc.limits,
    descriptorSetPath: DESCRIPTOR_SET,
    breakers: new Map([[DATABASE_DEPENDENCY_NAME, parts.policy]]),
    ...(parts.deadLetters !== undefined && { deadLetters: parts.deadLetters }),
    ...(parts.endpoints.multiHost && { endpoints: parts.endpoints }),
    logger,
    metrics,
    secrets: parts.secrets,
    ...(parts.requestContext !== undefined && { requestContext: parts.requestContext }),
    tracer: parts.tracing.rpc(ADMIN_SERVICE_NAME),
  }).catch((error: unknown) => {
    throw new StartupError('listener', `admin listener: ${(error as Error).message}`, { cause: error });
  });
  return { port, metricsServer, admin };
}
