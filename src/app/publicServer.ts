import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { createGrpcServer, type GrpcServer, type ServiceRegistration } from '../grpc/createGrpcServer';
import { HEALTH_SERVICE_NAME } from '../grpc/healthApiService';
import { ReadinessGate } from '../grpc/ReadinessGate';
import type { ListenerCredentials } from '../grpc/tls/serverCredentials';
import { DESCRIPTOR_SET } from '../paths';
import { COACHING_SERVICE_NAME } from './coachingApi';
import type { Metrics } from './ServiceDeps';

export interface PublicServer {
  readonly grpc: GrpcServer;
  readonly readiness: ReadinessGate;
}

/**
 * The public gRPC server (not listening yet) with its grpc.health.v1 statuses:
 * liveness SERVING (it never looks at a dependency: a restart does not heal a
 * database), the health API SERVING until shutdown, and readiness as the gate
 * of its conditions.
 */
export function createPublicServer(
  config: Config,
  parts: { services: readonly ServiceRegistration[]; tls: ListenerCredentials; metrics: Metrics; logger: Logger; connected: boolean },
): PublicServer {
  const { metrics } = parts;
  const grpc = createGrpcServer({
    services: parts.services,
    descriptorSetPath: DESCRIPTOR_SET,
    limits: config.grpc.limits,
    credentials: parts.tls.credentials,
    onPingViolation: () => metrics.pingViolation('public'),
    onConnectionPolicy: (reason) => metrics.connectionPolicy('public', reason),
  });
  metrics.trackWatches('public', () => grpc.health.openWatches());
  grpc.status.set('liveness', 'SERVING');
  grpc.status.set(HEALTH_SERVICE_NAME, 'SERVING');
  const readiness = new ReadinessGate(grpc.status, ['readiness', '', COACHING_SERVICE_NAME], parts.logger.child({ module: 'health' }), {
    'not-draining': true,
    'database-connected': parts.connected,
    'database-circuit-closed': true,
    // Until the first probe of every dependency has answered.
    'critical-dependencies-healthy': false,
  });
  return { grpc, readiness };
}
