import { constants, type ServerHttp2Session } from 'node:http2';

/** How often clients may ping (gRPC's keepalive enforcement, gRFC A8). */
export interface PingPolicy {
  /** Pings closer together than this are strikes; 0 allows any interval. */
  readonly minIntervalMs: number;
  /** Whether pings on a connection with no open stream are fine; if not, each is a strike. */
  readonly permitWithoutCalls: boolean;
  /** Strikes tolerated; the next one closes the connection. 0 turns enforcement off. */
  readonly maxStrikes: number;
}

const IDLE_PING_INTERVAL_MS = 2 * 60 * 60 * 1000;
/** A client that ignores GOAWAY loses the connection after this. */
const GOAWAY_GRACE_MS = 10_000;

/**
 * Enforces the ping policy on one HTTP/2 session, as gRPC servers in other
 * languages do (grpc-js servers do not): a client that pings too often, or
 * pings an idle connection when that is not permitted, gets GOAWAY with
 * ENHANCE_YOUR_CALM and the debug data "too_many_pings" after `maxStrikes`
 * strikes. gRPC clients read that as "double your keepalive interval". A new
 * stream clears the strikes (the connection is in use).
 */
export function enforcePingPolicy(session: ServerHttp2Session, policy: PingPolicy, onViolation?: () => void): void {
  if (policy.maxStrikes === 0) return;
  let openStreams = 0;
  let lastPingAt: number | undefined;
  let strikes = 0;
  session.on('stream', (stream) => {
    openStreams += 1;
    strikes = 0;
    stream.once('close', () => {
      openStreams -= 1;
    });
  });
  session.on('ping', () => {
    const now = performance.now();
    const sincePrevious = lastPingAt === undefined ? Number.POSITIVE_INFINITY : now - lastPingAt;
    const tooSoon = sincePrevious < policy.minIntervalMs;
    // As gRPC core: without calls, a ping within two hours of the previous one is a strike.
    const idle = openStreams === 0 && !policy.permitWithoutCalls && sincePrevious < IDLE_PING_INTERVAL_MS;
    lastPingAt = now;
    if (!tooSoon && !idle) return;
    strikes += 1;
    if (strikes <= policy.maxStrikes || session.destroyed) return;
    onViolation?.();
    try {
      // Streams already open may finish (last stream id: all of them); no new ones are accepted.
      session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 2 ** 31 - 1, Buffer.from('too_many_pings'));
    } catch {
      // Already closing.
    }
    session.close();
    // A client that ignores GOAWAY must not keep the connection.
    setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
  });
}
