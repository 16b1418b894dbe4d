import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServerOptions } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { GrpcLimitsConfig } from '../config/config';
import { createHealthService, GRPC_HEALTH_SERVICE_NAME, type HealthServiceHandle } from './createHealthService';
import { applyConnectionPolicy, type ConnectionPolicyEvent } from './connectionPolicy';
import { http2ServersOf, onHttp2Sessions } from './http2Sessions';
import { enforcePingPolicy } from './pingPolicy';
import { guardRequestDecoding } from './requestDecoding';
import { addReflection } from './reflection/reflectionService';
import type { ServiceRegistration } from './ServiceRegistration';
import { ServingStatus } from './ServingStatus';

export type { ServiceRegistration } from './ServiceRegistration';

export interface GrpcServerOptions {
  readonly services: readonly ServiceRegistration[];
  readonly descriptorSetPath: string;
  readonly limits: GrpcLimitsConfig;
  /** Plaintext unless given (see tls/serverCredentials.ts). */
  readonly credentials?: ServerCredentials;
  /** A client broke the ping policy and its connection is being closed (metrics). */
  readonly onPingViolation?: () => void;
  /** The connection policy closed or refused something (metrics). */
  readonly onConnectionPolicy?: (event: ConnectionPolicyEvent) => void;
}

export interface GrpcServer {
  readonly server: Server;
  readonly status: ServingStatus;
  readonly health: HealthServiceHandle;
  /** Binds and starts listening; resolves to the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops accepting, ends open health Watch and reflection streams, lets in-flight calls
   * finish, and force-closes whatever is still running after `timeoutMs`.
   */
  shutdown(timeoutMs: number): Promise<'graceful' | 'forced'>;
}

const REFLECTION_SERVICE_NAME = 'grpc.reflection.v1.ServerReflection';

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

/** grpc-js options for the configured limits; a 0 ("never") leaves grpc-js's unlimited default. */
function serverOptions(limits: GrpcLimitsConfig): ServerOptions {
  const positive = (key: string, ms: number): ServerOptions => (ms > 0 ? { [key]: ms } : {});
  return {
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': limits.maxSendMessageBytes,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    ...positive('grpc.max_connection_idle_ms', limits.maxConnectionIdleMs),
    ...positive('grpc.max_connection_age_ms', limits.maxConnectionAgeMs),
    ...positive('grpc.max_connection_age_grace_ms', limits.maxConnectionAgeGraceMs),
  };
}

/**
 * A grpc-js server with the given services, the configured limits (streams,
 * message sizes, keepalive with ping enforcement, connection idle and age),
 * standard grpc.health.v1 (every served name starts NOT_SERVING; Watch
 * streams bounded) and server reflection over the descriptor set `buf build`
 * produced (see {@link fileDescriptorProtos}), listing only what this server serves.
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { limits } = options;
  const server = new Server(serverOptions(limits));
  for (const service of options.services) server.addService(guardRequestDecoding(service.definition), service.implementation);

  const status = new ServingStatus(Object.fromEntries(['', ...options.services.map((s) => s.name)].map((name) => [name, 'NOT_SERVING' as const])));
  const health = createHealthService(status, {
    maxStreams: limits.healthWatchMaxStreams,
    maxStreamsPerConnection: limits.healthWatchMaxStreamsPerConnection,
    maxStreamsPerPeer: limits.healthWatchMaxStreamsPerPeer,
  });
  server.addService(health.registration.definition, health.registration.implementation);

  const listed = [...options.services.map((s) => s.name), GRPC_HEALTH_SERVICE_NAME, REFLECTION_SERVICE_NAME];
  const reflection = addReflection(server, fileDescriptorProtos(readFileSync(options.descriptorSetPath)), { services: listed });

  const definitions = [...options.services.map((s) => s.definition), health.registration.definition];
  const singleRequestPaths = new Set(
    definitions.flatMap((d) =>
      Object.values(d)
        .filter((m) => !m.requestStream)
        .map((m) => m.path),
    ),
  );
  const connectionPolicy = {
    maxConnections: limits.maxConnections,
    maxConnectionsPerPeer: limits.maxConnectionsPerPeer,
    handshakeTimeoutMs: limits.handshakeTimeoutMs,
    maxBufferedBytes: limits.maxConnectionBufferedBytes,
    requestMessageTimeoutMs: limits.requestMessageTimeoutMs,
    singleRequestPaths,
  };

  const pingPolicy = {
    minIntervalMs: limits.keepaliveMinPingIntervalMs,
    permitWithoutCalls: limits.keepalivePermitWithoutCalls,
    maxStrikes: limits.keepaliveMaxPingStrikes,
  };

  return {
    server,
    status,
    health,
    async listen(host, port) {
      const bound = await new Promise<number>((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, options.credentials ?? ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p)));
      });
      onHttp2Sessions(server, (session) => enforcePingPolicy(session, pingPolicy, options.onPingViolation));
      for (const [http2Server] of http2ServersOf(server)) applyConnectionPolicy(http2Server, connectionPolicy, options.onConnectionPolicy);
      return bound;
    },
    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        // Stops accepting; calls already received run to completion.
        new Promise<'graceful'>((resolve) => {
          server.tryShutdown(() => resolve('graceful'));
          // Watch streams never end by themselves: end them (after the last status was sent).
          status.freeze();
          health.endWatches();
          // Reflection streams stay open as long as the client likes (grpcurl keeps one per command).
          reflection.endStreams();
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
