import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type UntypedServiceImplementation, type ServiceDefinition } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
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
  /**
   * Stops accepting, waits until in-flight unary calls are done (`unaryIdle`)
   * or `timeoutMs` passed, then force-closes the rest (open Watch streams).
   */
  shutdown(timeoutMs: number, unaryIdle: () => Promise<void>): Promise<'graceful' | 'forced'>;
}

/**
 * The serialized FileDescriptorProtos of a FileDescriptorSet (field 1), kept
 * byte for byte. Loading the set through proto-loader instead rebuilds the
 * files via protobufjs, which regroups messages and drops imports, so strict
 * reflection clients (grpcurl, Python) cannot resolve google.protobuf types.
 */
function fileDescriptorProtos(descriptorSet: Uint8Array): Buffer[] {
  const reader = new BinaryReader(descriptorSet);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return files;
}

/**
 * A grpc-js server with the given services, standard grpc.health.v1 (every
 * served name starts NOT_SERVING) and server reflection over the descriptor set
 * `buf build` produced (see {@link fileDescriptorProtos}).
 */
export function createGrpcServer(options: { services: readonly ServiceRegistration[]; descriptorSetPath: string }): GrpcServer {
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  for (const service of options.services) server.addService(service.definition, service.implementation);

  const health = new HealthImplementation();
  health.addToServer(server);
  const status = new ServingStatus(health, Object.fromEntries(['', ...options.services.map((s) => s.name)].map((name) => [name, 'NOT_SERVING' as const])));

  // ReflectionService reads only `fileDescriptorProtos` of each definition entry.
  const files = { fileDescriptorProtos: fileDescriptorProtos(readFileSync(options.descriptorSetPath)) } as unknown as PackageDefinition[string];
  new ReflectionService({ files }).addToServer(server);

  return {
    server,
    status,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
      }),
    async shutdown(timeoutMs, unaryIdle) {
      // Stop accepting; tryShutdown's callback would wait for Watch streams too, so do not wait on it.
      server.tryShutdown(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        unaryIdle().then(() => 'graceful' as const),
        new Promise<'forced'>((resolve) => {
          timer = setTimeout(() => resolve('forced'), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      // What is left is long-lived streams (health Watch) or calls past the timeout.
      server.forceShutdown();
      return outcome;
    },
  };
}
