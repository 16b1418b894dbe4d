import { constants, type Http2SecureServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';

/**
 * Bounds on what one client connection may hold, which grpc-js does not
 * enforce itself. See README "Connection and stream limits".
 */
export interface ConnectionPolicy {
  /** Connections open at once on the listener; more are closed as they arrive (0: no bound). */
  readonly maxConnections: number;
  /** Connections open at once from one client IP address (0: no bound), so one client cannot take all of maxConnections. */
  readonly maxConnectionsPerPeer: number;
  /** From TCP accept to the client's HTTP/2 preface and SETTINGS (TLS handshake included); a silent socket is closed. */
  readonly handshakeTimeoutMs: number;
  /**
   * Response bytes one connection may have queued and not yet sent (a client
   * that does not read, or whose window stays closed). Beyond it the
   * connection gets GOAWAY ENHANCE_YOUR_CALM and is closed.
   */
  readonly maxBufferedBytes: number;
  /** A call whose client sends one message must have sent all of it (and half-closed) within this. */
  readonly requestMessageTimeoutMs: number;
  /** Paths of the methods whose client sends exactly one message (unary and server streaming). */
  readonly singleRequestPaths: ReadonlySet<string>;
}

/** Why the policy closed something (metrics, logs). */
export type ConnectionPolicyEvent = 'connection_refused' | 'peer_connections' | 'handshake_timeout' | 'buffered_bytes' | 'request_message_timeout';

type AnyHttp2Server = Http2Server | Http2SecureServer;

const peerKey = (socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string => `${socket.remoteAddress}:${socket.remotePort}`;

/**
 * Applies the policy to one HTTP/2 server of a grpc-js server (see
 * http2Sessions.ts for how it is reached). Also ends each stream whose
 * response is complete while the client is still sending, with RST_STREAM
 * NO_ERROR (RFC 9113 §8.1, as grpc-go does): otherwise a client that never
 * half-closes keeps the stream, and a drain, open.
 */
export function applyConnectionPolicy(
  http2Server: AnyHttp2Server,
  policy: ConnectionPolicy,
  onEvent: (event: ConnectionPolicyEvent) => void = () => undefined,
): void {
  if (policy.maxConnections > 0) {
    http2Server.maxConnections = policy.maxConnections;
    http2Server.on('drop', () => onEvent('connection_refused'));
  }

  // Sockets that have not yet sent the HTTP/2 preface, by peer address (a TLS session's socket is not the TCP one),
  // and their HTTP/2 session once there is one: destroying the socket under a session does not close it.
  const silent = new Map<string, NodeJS.Timeout>();
  const sessions = new Map<string, ServerHttp2Session>();
  const perPeer = new Map<string, number>();
  http2Server.on('connection', (socket: Socket) => {
    const key = peerKey(socket);
    const address = socket.remoteAddress ?? '';
    const open = (perPeer.get(address) ?? 0) + 1;
    perPeer.set(address, open);
    socket.once('close', () => {
      const left = (perPeer.get(address) ?? 1) - 1;
      if (left > 0) perPeer.set(address, left);
      else perPeer.delete(address);
    });
    if (policy.maxConnectionsPerPeer > 0 && open > policy.maxConnectionsPerPeer) {
      onEvent('peer_connections');
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      silent.delete(key);
      onEvent('handshake_timeout');
      const session = sessions.get(key);
      if (session === undefined) socket.destroy();
      else session.destroy();
    }, policy.handshakeTimeoutMs);
    timer.unref();
    silent.set(key, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      if (silent.get(key) === timer) silent.delete(key);
    });
  });

  http2Server.on('session', (session: ServerHttp2Session) => {
    const key = peerKey(session.socket);
    sessions.set(key, session);
    const settled = (): void => {
      if (sessions.get(key) === session) sessions.delete(key);
    };
    session.once('close', settled);
    session.once('remoteSettings', () => {
      settled();
      clearTimeout(silent.get(key));
      silent.delete(key);
    });
    const streams = new Set<ServerHttp2Stream>();
    const buffered = (): number => {
      let bytes = session.socket?.writableLength ?? 0;
      for (const s of streams) bytes += s.writableLength;
      return bytes;
    };
    session.on('stream', (stream: ServerHttp2Stream, headers) => {
      streams.add(stream);
      // One close listener per stream for everything below (each `once` is a wrapper and a listener per call).
      let messageTimer: NodeJS.Timeout | undefined;
      stream.once('close', () => {
        streams.delete(stream);
        clearTimeout(messageTimer);
      });
      watchResponseEnd(stream);
      capBufferedBytes(stream, () => {
        if (buffered() <= policy.maxBufferedBytes || session.destroyed) return;
        onEvent('buffered_bytes');
        try {
          session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too_much_buffered_response_data'));
        } catch {
          // Already closing.
        }
        session.destroy();
      });
      if (policy.singleRequestPaths.has(String(headers[':path']))) {
        messageTimer = setTimeout(() => {
          if (stream.closed || stream.state.remoteClose === 1) return;
          onEvent('request_message_timeout');
          stream.close(constants.NGHTTP2_CANCEL);
        }, policy.requestMessageTimeoutMs);
        messageTimer.unref();
      }
    });
  });
}

/** Calls `check` after each write to the stream (the response bytes it queues). */
function capBufferedBytes(stream: ServerHttp2Stream, check: () => void): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  (stream as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    const accepted = write(...args);
    check();
    return accepted;
  };
}

/**
 * Once the response is complete (trailers, or a trailers-only response,
 * handed to HTTP/2), a stream whose client has not half-closed gets
 * RST_STREAM NO_ERROR. It runs a turn later, after the frames were queued
 * ahead of it, so the client receives the whole response first.
 */
function watchResponseEnd(stream: ServerHttp2Stream): void {
  const resetIfStillOpen = (): void => {
    // The usual unary call: the client half-closed with its request (the stream's readable side ended), nothing to reset.
    if (stream.readableEnded) return;
    setImmediate(() => {
      if (!stream.closed && !stream.destroyed && stream.state.remoteClose !== 1) stream.close(constants.NGHTTP2_NO_ERROR);
    });
  };
  const respond = stream.respond.bind(stream);
  stream.respond = (headers, options) => {
    respond(headers, options);
    if (options?.endStream === true) resetIfStillOpen();
  };
  const sendTrailers = stream.sendTrailers.bind(stream);
  stream.sendTrailers = (headers) => {
    sendTrailers(headers);
    resetIfStillOpen();
  };
}
