/**
 * The gRPC listeners' settings: the public port (TLS, mTLS, connection and
 * stream limits) and the admin listener. Read from the variables
 * config.ts collected; nothing here touches the process environment.
 */
import { existsSync } from 'node:fs';
import type { createReader } from './reader';

type Reader = ReturnType<typeof createReader>;

export const CLIENT_AUTH_MODES = ['none', 'request', 'require'] as const;
/** Whether a TLS listener asks clients for a certificate: never, if they have one, or always. */
export type ClientAuth = (typeof CLIENT_AUTH_MODES)[number];

/** A TLS listener's files; they are watched and reloaded when they change. */
export interface TlsServerConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle that client certificates must chain to; required unless clientAuth is "none". */
  readonly clientCaFile: string | undefined;
  readonly clientAuth: ClientAuth;
}

/**
 * Limits of a gRPC listener. Durations of 0 mean "never" where the key says so.
 * grpc-js applies the stream, size, keepalive, idle and age limits; the ping
 * enforcement (min interval, permit without calls, strikes) is the service's own.
 */
export interface GrpcLimitsConfig {
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may have open at once. */
  readonly maxConcurrentStreams: number;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** The server pings each connection this often and closes it when no answer comes within keepaliveTimeoutMs. */
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Client pings closer together than this are strikes (0: any interval is fine). */
  readonly keepaliveMinPingIntervalMs: number;
  /** Whether clients may ping a connection that has no call open (false: such pings are strikes). */
  readonly keepalivePermitWithoutCalls: boolean;
  /** Strikes allowed before the connection is closed with GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (0: never). */
  readonly keepaliveMaxPingStrikes: number;
  /** A connection with no call open for this long is closed (0: never). */
  readonly maxConnectionIdleMs: number;
  /** A connection is asked to go away after this long (±10% jitter), so clients rebalance (0: never). */
  readonly maxConnectionAgeMs: number;
  /** Calls still open at max age get this long to finish before the connection is closed (0: no limit). */
  readonly maxConnectionAgeGraceMs: number;
  /** grpc.health.v1 Watch streams open at once on the listener, and on one connection. */
  readonly healthWatchMaxStreams: number;
  readonly healthWatchMaxStreamsPerConnection: number;
  /** Watch streams from one client IP address, over all its connections. */
  readonly healthWatchMaxStreamsPerPeer: number;
  /** Connections open at once on the listener (0: no bound). */
  readonly maxConnections: number;
  /** Connections open at once from one client IP address (0: no bound). */
  readonly maxConnectionsPerPeer: number;
  /** From TCP accept to the client's HTTP/2 preface (TLS handshake included). */
  readonly handshakeTimeoutMs: number;
  /** Response bytes one connection may have queued unsent before it is closed. */
  readonly maxConnectionBufferedBytes: number;
  /** Time a unary or server-streaming call's client has to send its whole request message. */
  readonly requestMessageTimeoutMs: number;
}

/** The public gRPC listener. */
export interface GrpcConfig {
  readonly host: string;
  readonly port: number;
  /** undefined: plaintext (refused in production unless GRPC_ALLOW_INSECURE_PRODUCTION). */
  readonly tls: TlsServerConfig | undefined;
  readonly limits: GrpcLimitsConfig;
}

/** The admin listener (coaching.admin.v1.AdminService), kept off the public port. */
export interface AdminConfig {
  readonly enabled: boolean;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly tls: TlsServerConfig | undefined;
  /** File holding the bearer token admin calls must present; undefined: no token required. Re-read when it changes. */
  readonly tokenFile: string | undefined;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

function existingFile(r: Reader, key: string): string | undefined {
  const path = r.optionalString(key);
  if (path !== undefined && !existsSync(path)) r.problem(key, `names a file that does not exist: ${path}`);
  return path;
}

/** `<prefix>_TLS_CERT_FILE`, `_KEY_FILE`, `_CLIENT_CA_FILE`, `_CLIENT_AUTH`; undefined when no certificate is configured. */
function readTls(r: Reader, prefix: string): TlsServerConfig | undefined {
  const certFile = existingFile(r, `${prefix}_TLS_CERT_FILE`);
  const keyFile = existingFile(r, `${prefix}_TLS_KEY_FILE`);
  const clientCaFile = existingFile(r, `${prefix}_TLS_CLIENT_CA_FILE`);
  const clientAuth = r.oneOf(`${prefix}_TLS_CLIENT_AUTH`, CLIENT_AUTH_MODES, clientCaFile === undefined ? 'none' : 'require');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    r.problem(`${prefix}_TLS_CERT_FILE`, `and ${prefix}_TLS_KEY_FILE must be set together`);
  }
  if (certFile === undefined) {
    if (clientCaFile !== undefined || r.has(`${prefix}_TLS_CLIENT_AUTH`)) {
      r.problem(
        `${prefix}_TLS_CLIENT_CA_FILE`,
        `and ${prefix}_TLS_CLIENT_AUTH need ${prefix}_TLS_CERT_FILE and ${prefix}_TLS_KEY_FILE (client certificates need TLS)`,
      );
    }
    return undefined;
  }
  if (clientAuth !== 'none' && clientCaFile === undefined) {
    r.problem(`${prefix}_TLS_CLIENT_AUTH`, `is "${clientAuth}" but ${prefix}_TLS_CLIENT_CA_FILE is not set (the CA client certificates must chain to)`);
  }
  return { certFile, keyFile: keyFile ?? certFile, clientCaFile, clientAuth };
}

function readLimits(r: Reader): GrpcLimitsConfig {
  const mib = 1024 * 1024;
  const day = 86_400_000;
  const limits: GrpcLimitsConfig = {
    maxConcurrentStreams: r.int('GRPC_MAX_CONCURRENT_STREAMS', 100, 1, 10_000),
    // About ten times the largest valid request (see test/grpcConnectionLimits.test.ts); README "Connection and stream limits".
    maxReceiveMessageBytes: r.int('GRPC_MAX_RECEIVE_MESSAGE_BYTES', 256 * 1024, 1024, 64 * mib),
    maxSendMessageBytes: r.int('GRPC_MAX_SEND_MESSAGE_BYTES', 4 * mib, 1024, 64 * mib),
    keepaliveTimeMs: r.int('GRPC_KEEPALIVE_TIME_MS', 60_000, 100, day),
    keepaliveTimeoutMs: r.int('GRPC_KEEPALIVE_TIMEOUT_MS', 20_000, 100, 600_000),
    keepaliveMinPingIntervalMs: r.int('GRPC_KEEPALIVE_MIN_PING_INTERVAL_MS', 5_000, 0, day),
    keepalivePermitWithoutCalls: r.bool('GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS', false),
    keepaliveMaxPingStrikes: r.int('GRPC_KEEPALIVE_MAX_PING_STRIKES', 2, 0, 100),
    maxConnectionIdleMs: r.int('GRPC_MAX_CONNECTION_IDLE_MS', 300_000, 0, day),
    maxConnectionAgeMs: r.int('GRPC_MAX_CONNECTION_AGE_MS', 300_000, 0, day),
    maxConnectionAgeGraceMs: r.int('GRPC_MAX_CONNECTION_AGE_GRACE_MS', 30_000, 0, day),
    healthWatchMaxStreams: r.int('GRPC_HEALTH_WATCH_MAX_STREAMS', 1000, 1, 100_000),
    healthWatchMaxStreamsPerConnection: r.int('GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION', 10, 1, 10_000),
    healthWatchMaxStreamsPerPeer: r.int('GRPC_HEALTH_WATCH_MAX_STREAMS_PER_PEER', 100, 1, 100_000),
    maxConnections: r.int('GRPC_MAX_CONNECTIONS', 2000, 0, 1_000_000),
    maxConnectionsPerPeer: r.int('GRPC_MAX_CONNECTIONS_PER_PEER', 200, 0, 1_000_000),
    handshakeTimeoutMs: r.int('GRPC_HANDSHAKE_TIMEOUT_MS', 10_000, 100, 600_000),
    maxConnectionBufferedBytes: r.int('GRPC_MAX_CONNECTION_BUFFERED_BYTES', 64 * mib, 64 * 1024, 1024 * mib),
    requestMessageTimeoutMs: r.int('GRPC_REQUEST_MESSAGE_TIMEOUT_MS', 30_000, 100, 600_000),
  };
  if (limits.healthWatchMaxStreamsPerConnection > limits.healthWatchMaxStreams) {
    r.problem('GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION', `must not exceed GRPC_HEALTH_WATCH_MAX_STREAMS (${limits.healthWatchMaxStreams})`);
  }
  if (limits.healthWatchMaxStreamsPerConnection > limits.healthWatchMaxStreamsPerPeer) {
    r.problem(
      'GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION',
      `must not exceed GRPC_HEALTH_WATCH_MAX_STREAMS_PER_PEER (${limits.healthWatchMaxStreamsPerPeer})`,
    );
  }
  if (limits.healthWatchMaxStreamsPerConnection > limits.maxConcurrentStreams) {
    r.problem('GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION', `must not exceed GRPC_MAX_CONCURRENT_STREAMS (${limits.maxConcurrentStreams})`);
  }
  return limits;
}

/** The public listener's settings; production refuses plaintext unless GRPC_ALLOW_INSECURE_PRODUCTION=true. */
export function readGrpcConfig(r: Reader, appEnv: string): GrpcConfig {
  const tls = readTls(r, 'GRPC');
  if (appEnv === 'production' && tls === undefined && !r.bool('GRPC_ALLOW_INSECURE_PRODUCTION', false)) {
    r.problem(
      'GRPC_TLS_CERT_FILE',
      'is required when APP_ENV=production (the gRPC port would be plaintext); set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE, or GRPC_ALLOW_INSECURE_PRODUCTION=true',
    );
  }
  return { host: r.string('GRPC_HOST', '0.0.0.0'), port: r.int('GRPC_PORT', 50051, 0, 65535), tls, limits: readLimits(r) };
}

/**
 * The admin listener's settings. In staging and production it may leave the
 * loopback interface only with TLS and a caller check (token or required client certificate).
 */
export function readAdminConfig(r: Reader, appEnv: string): AdminConfig {
  const admin: AdminConfig = {
    enabled: r.bool('ADMIN_GRPC_ENABLED', true),
    host: r.string('ADMIN_GRPC_HOST', '127.0.0.1'),
    port: r.int('ADMIN_GRPC_PORT', appEnv === 'test' ? 0 : 50052, 0, 65535),
    tls: readTls(r, 'ADMIN'),
    tokenFile: existingFile(r, 'ADMIN_TOKEN_FILE'),
  };
  const guarded = admin.tokenFile !== undefined || admin.tls?.clientAuth === 'require';
  if (admin.enabled && (appEnv === 'staging' || appEnv === 'production') && !isLoopback(admin.host) && (admin.tls === undefined || !guarded)) {
    r.problem(
      'ADMIN_GRPC_HOST',
      `is ${JSON.stringify(admin.host)}, reachable from other machines, in ${appEnv}: set ADMIN_TLS_CERT_FILE/ADMIN_TLS_KEY_FILE and ADMIN_TOKEN_FILE (or ADMIN_TLS_CLIENT_AUTH=require), or keep it on 127.0.0.1`,
    );
  }
  return admin;
}
