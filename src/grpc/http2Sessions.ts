import type { Http2SecureServer, Http2Server, ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

export type AnyHttp2Server = Http2Server | Http2SecureServer;
interface ServerInfo {
  readonly sessions: Set<ServerHttp2Session>;
}

/**
 * Calls `listener` with every HTTP/2 session (one per client connection) of a
 * grpc-js server: those open now and those to come. Call it after bindAsync.
 *
 * grpc-js 1.14 has no public hook for sessions; it keeps its HTTP/2 servers
 * in the private map `http2Servers`. This is the one place that reads it, and
 * it fails loudly (at start, so no server runs without the policy) when an
 * upgrade changes that shape; test/grpcServerLimits.test.ts exercises it.
 */
export function onHttp2Sessions(server: Server, listener: (session: ServerHttp2Session) => void): void {
  for (const [http2Server, sessions] of http2ServersOf(server)) {
    http2Server.on('session', listener);
    for (const session of sessions) listener(session);
  }
}

/** The HTTP/2 servers of a bound grpc-js server, each with its open sessions (same private map as above). */
export function http2ServersOf(server: Server): [AnyHttp2Server, Set<ServerHttp2Session>][] {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) {
    throw new Error('cannot attach the HTTP/2 session policy: grpc-js internals changed (see src/grpc/http2Sessions.ts)');
  }
  for (const [http2Server, info] of servers as Map<AnyHttp2Server, ServerInfo>) {
    if (typeof http2Server.on !== 'function' || !(info.sessions instanceof Set)) {
      throw new Error('cannot attach the HTTP/2 session policy: grpc-js internals changed (see src/grpc/http2Sessions.ts)');
    }
  }
  return [...(servers as Map<AnyHttp2Server, ServerInfo>)].map(([http2Server, info]) => [http2Server, info.sessions]);
}
