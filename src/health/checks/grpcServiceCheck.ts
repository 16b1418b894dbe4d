import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { HealthDependencyConfig } from '../../config/config';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../generated/grpc/health/v1/health';
import type { DependencyCheck, ProbeOutcome } from '../types';

type GrpcDependency = Extract<HealthDependencyConfig, { type: 'GRPC_SERVICE' }>;

/** host and port of "host:port" or "[v6]:port". */
function splitTarget(target: string): { hostname: string; port: number } {
  const at = target.lastIndexOf(':');
  return { hostname: target.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(target.slice(at + 1)) };
}

/**
 * Probes an upstream gRPC server with grpc.health.v1 Check (the named
 * service, or the whole server for ''). SERVING is healthy; NOT_SERVING, an
 * unknown service or any call error is unhealthy. One channel is kept open
 * between probes, as a real client of the upstream would. With tracing, the
 * probe's trace context goes out as metadata (`inject`).
 */
export function createGrpcServiceCheck(dep: GrpcDependency, inject?: (carrier: Record<string, string>) => void): DependencyCheck {
  const client = new HealthClient(dep.target, dep.tls ? credentials.createSsl() : credentials.createInsecure());
  const what = dep.service === '' ? dep.target : `${dep.service} at ${dep.target}`;
  return {
    name: dep.name,
    type: 'GRPC_SERVICE',
    critical: dep.critical,
    endpoint: { ...splitTarget(dep.target), protocol: 'grpc' },
    intervalMs: dep.intervalMs,
    timeoutMs: dep.timeoutMs,
    probe: (signal) =>
      new Promise<ProbeOutcome>((resolve) => {
        const metadata = new Metadata();
        if (inject !== undefined) {
          const carrier: Record<string, string> = {};
          inject(carrier);
          for (const [key, value] of Object.entries(carrier)) metadata.set(key, value);
        }
        const call = client.check({ service: dep.service }, metadata, { deadline: Date.now() + dep.timeoutMs }, (error: ServiceError | null, response) => {
          signal.removeEventListener('abort', cancel);
          if (error) {
            const code = grpcStatus[error.code] ?? 'UNKNOWN';
            resolve({ status: 'UNHEALTHY', message: `${dep.name} is not reachable`, errorCode: `GRPC_${code}`, error: `${what}: ${error.details || code}` });
          } else if (response.status === HealthCheckResponse_ServingStatus.SERVING) {
            resolve({ status: 'HEALTHY', message: `${dep.name} is healthy` });
          } else {
            const state = HealthCheckResponse_ServingStatus[response.status] ?? 'UNKNOWN';
            resolve({ status: 'UNHEALTHY', message: `${dep.name} is not serving`, errorCode: `GRPC_${state}`, error: `${what} reports ${state}` });
          }
        });
        const cancel = (): void => call.cancel();
        signal.addEventListener('abort', cancel, { once: true });
      }),
    close: () => client.close(),
  };
}
