import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServerWritableStream, type UntypedServiceImplementation, type ServiceDefinition } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { HealthImplementation } from 'grpc-health-check';
import { addReflection } from './reflection/reflectionService';
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
   * Stops accepting, ends open health Watch streams, lets in-flight calls
   * finish, and force-closes whatever is still running after `timeoutMs`.
   */
  shutdown(timeoutMs: number): Promise<'graceful' | 'forced'>;
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
  // Keep hold of open Watch streams: shutdown ends them, or they would hold the server open.
  const watches = new Set<ServerWritableStream<unknown, unknown>>();
  health.addToServer({
    addService: (definition: ServiceDefinition, handlers: UntypedServiceImplementation) => {
      const watch = handlers.watch as (call: ServerWritableStream<unknown, unknown>) => void;
      server.addService(definition, {
        ...handlers,
        watch: (call: ServerWritableStream<unknown, unknown>) => {
          watches.add(call);
          call.on('close', () => watches.delete(call));
          watch(call);
        },
      });
    },
  });
  const status = new ServingStatus(health, Object.fromEntries(['', ...options.services.map((s) => s.name)].map((name) => [name, 'NOT_SERVING' as const])));

  addReflection(server, fileDescriptorProtos(readFileSync(options.descriptorSetPath)));

  return {
    server,
    status,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
      }),
    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        // Stops accepting; calls already received run to completion.
        new Promise<'graceful'>((resolve) => {
          server.tryShutdown(() => resolve('graceful'));
          // Watch streams never end by themselves: end them (after the last status was sent).
          status.freeze();
          for (const call of watches) call.end();
        }),
        new Promise<'forced'>((resolve) => {
          timer = setTimeout(() => resolve('forced'), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'forced') server.forceShutdown();
      return outcome;
    },
  };
}
