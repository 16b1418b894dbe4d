import { status as grpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Wire,
  HealthService,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
} from '../generated/grpc/health/v1/health';
import type { ServiceRegistration } from './ServiceRegistration';
import type { HealthState, ServingStatus } from './ServingStatus';

export const GRPC_HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** Bounds on Watch streams, which stay open until the client cancels. */
export interface WatchLimits {
  readonly maxStreams: number;
  readonly maxStreamsPerConnection: number;
  /** Per client IP address, over all its connections (a client can open many connections). */
  readonly maxStreamsPerPeer: number;
}

/** The grpc.health.v1 registration plus what shutdown needs. */
export interface HealthServiceHandle {
  readonly registration: ServiceRegistration;
  /** Open Watch streams (tests, metrics). */
  openWatches(): number;
  /** Ends every open Watch stream with OK (shutdown: otherwise they hold the server open). */
  endWatches(): void;
}

const WIRE: Record<HealthState, Wire> = { SERVING: Wire.SERVING, NOT_SERVING: Wire.NOT_SERVING };

/**
 * grpc.health.v1 over a {@link ServingStatus}. Check of an unknown name is
 * NOT_FOUND and Watch of one gets SERVICE_UNKNOWN and stays open, as the
 * protocol says, but nothing is stored for the name. Watch streams are bounded
 * per listener and per connection (the peer address identifies the
 * connection); beyond either bound a Watch ends at once with RESOURCE_EXHAUSTED.
 */
export function createHealthService(status: ServingStatus, limits: WatchLimits): HealthServiceHandle {
  const watches = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();
  const perConnection = new Map<string, number>();
  const perPeer = new Map<string, number>();
  const take = (counts: Map<string, number>, key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  const give = (counts: Map<string, number>, key: string): void => {
    const left = (counts.get(key) ?? 1) - 1;
    if (left > 0) counts.set(key, left);
    else counts.delete(key);
  };

  const implementation: HealthServer = {
    check(call, callback) {
      const current = status.get(call.request.service);
      if (current === undefined) {
        // The name is not echoed: it is the client's text, of any length.
        callback({
          code: grpcStatus.NOT_FOUND,
          details: `unknown service name; known: ${status
            .entries()
            .map(([name]) => JSON.stringify(name))
            .join(', ')}`,
        });
        return;
      }
      callback(null, { status: WIRE[current] });
    },
    watch(call) {
      const peer = call.getPeer();
      const address = peerAddress(peer);
      const scope =
        watches.size >= limits.maxStreams
          ? `${limits.maxStreams} on this server`
          : (perPeer.get(address) ?? 0) >= limits.maxStreamsPerPeer
            ? `${limits.maxStreamsPerPeer} per client address`
            : (perConnection.get(peer) ?? 0) >= limits.maxStreamsPerConnection
              ? `${limits.maxStreamsPerConnection} per connection`
              : undefined;
      if (scope !== undefined) {
        call.emit('error', { code: grpcStatus.RESOURCE_EXHAUSTED, details: `too many open health Watch streams (at most ${scope}); cancel one or use Check` });
        return;
      }
      watches.add(call);
      take(perConnection, peer);
      take(perPeer, address);
      const unsubscribe = status.subscribe(call.request.service, (next) => call.write({ status: WIRE[next] }));
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        unsubscribe?.();
        watches.delete(call);
        give(perConnection, peer);
        give(perPeer, address);
      };
      call.on('cancelled', release);
      call.on('close', release);
      call.on('finish', release);
      const current = status.get(call.request.service);
      call.write({ status: current === undefined ? Wire.SERVICE_UNKNOWN : WIRE[current] });
    },
    list(_call, callback) {
      callback(null, { statuses: Object.fromEntries(status.entries().map(([name, s]) => [name, { status: WIRE[s] }])) });
    },
  };

  return {
    registration: { name: GRPC_HEALTH_SERVICE_NAME, definition: HealthService, implementation },
    openWatches: () => watches.size,
    endWatches() {
      for (const call of [...watches]) call.end();
    },
  };
}

/** The IP address of a grpc-js peer string ("1.2.3.4:5678", "[::1]:5678"); the whole string when it has no port. */
export function peerAddress(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed !== null) return bracketed[1]!;
  const v4 = /^([^:]+):\d+$/.exec(peer);
  return v4 === null ? peer : v4[1]!;
}
