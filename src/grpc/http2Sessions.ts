import type { Http2SecureServer, Http2Server, ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

type AnyHttp2Server = Http2Server | Http2SecureServer;
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
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) {
    throw new Error('cannot attach the HTTP/2 session policy: grpc-js internals changed (see src/grpc/http2Sessions.ts)');
  }
  for (const [http2Server, info] of servers as Map<AnyHttp2Server, ServerInfo>) {
    if (typeof http2Server.on !== 'function' || !(info.sessions instanceof Set)) {
      throw new Error('cannot attach the HTTP/2 session policy: grpc-js internals changed (see src/grpc/http2Sessions.ts)');
    }
    http2Server.on('session', listener);
    for (const session of info.sessions) listener(session);
  }
}
