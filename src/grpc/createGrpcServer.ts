import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type UntypedServiceImplementation, type ServiceDefinition } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { addDescriptorReflection } from './reflection/addDescriptorReflection';
import { ServingStatus } from './ServingStatus';

export interface ServiceRegistration {
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServer {
  readonly server: Server;
  readonly status: ServingStatus;
  /** Binds and starts listening; resolves to the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, lets in-flight calls finish until `timeoutMs`, then forces the rest closed. */
  shutdown(timeoutMs: number): Promise<'graceful' | 'forced'>;
}

/**
 * A grpc-js server with the given services, standard grpc.health.v1 (every
 * served name starts NOT_SERVING) and server reflection. Reflection serves the
 * files of the descriptor set `buf build` produced as they are, imports
 * included (@grpc/reflection re-emits them through proto-loader, merged per
 * package and without imports, which grpcurl cannot link).
 */
export function createGrpcServer(options: { services: readonly ServiceRegistration[]; descriptorSetPath: string }): GrpcServer {
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  for (const service of options.services) server.addService(service.definition, service.implementation);

  const health = new HealthImplementation();
  health.addToServer(server);
  const status = new ServingStatus(health, Object.fromEntries(['', ...options.services.map((s) => s.name)].map((name) => [name, 'NOT_SERVING' as const])));

  addDescriptorReflection(server, readFileSync(options.descriptorSetPath), ['grpc.health.v1.Health', ...options.services.map((s) => s.name)]);

  return {
    server,
    status,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
      }),
    shutdown: (timeoutMs) =>
      new Promise((resolve) => {
        // tryShutdown waits for every open call, including health Watch streams: bound it.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve('forced');
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve('graceful');
        });
      }),
  };
}
