import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, secretValues, type Config } from '../src/config/config';
import { ConfigError } from '../src/config/ConfigError';

const NO_FILE = '/nonexistent/.env';
const PROD = {
  APP_ENV: 'production',
  DB_HOST: 'db.internal',
  DB_PASSWORD: 'a-production-db-password',
  PAGE_TOKEN_SECRET: 'a-production-page-secret',
  DB_SSL_ROOT_CERT: __filename,
};

let dir: string;
let cert: string;
let key: string;
let ca: string;
let token: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coaching-config-listeners-'));
  // Configuration checks that the files exist; their contents are checked when the listener starts.
  [cert, key, ca, token] = ['server.crt', 'server.key', 'ca.crt', 'admin-token'].map((name) => {
    const path = join(dir, name);
    writeFileSync(path, 'placeholder\n');
    return path;
  }) as [string, string, string, string];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: Record<string, string>): Config => loadConfig({ env, envFile: NO_FILE });
function problems(env: Record<string, string>): readonly string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('database authentication (DB_AUTH)', () => {
  it('refuses a missing password in staging and production, naming DB_PASSWORD and the way out', () => {
    for (const appEnv of ['staging', 'production']) {
      const found = problems({ ...PROD, APP_ENV: appEnv, DB_PASSWORD: '', GRPC_ALLOW_INSECURE_PRODUCTION: 'true' });
      expect(found).toEqual([expect.stringMatching(/^DB_PASSWORD is required when APP_ENV=.*DB_PASSWORD_FILE.*DB_AUTH=trust\|certificate/)]);
    }
  });

  it('accepts no password with DB_AUTH=trust, and in development and test', () => {
    expect(load({ ...PROD, DB_PASSWORD: '', DB_AUTH: 'trust', GRPC_ALLOW_INSECURE_PRODUCTION: 'true' }).db).toMatchObject({
      auth: 'trust',
      password: { kind: 'none' },
    });
    expect(load({ APP_ENV: 'test', DB_HOST: 'db' }).db.password).toEqual({ kind: 'none' });
    expect(load({ APP_ENV: 'development', DB_HOST: 'db' }).db.password).toEqual({ kind: 'none' });
  });

  it('takes a password from DATABASE_URL or DB_PASSWORD_FILE as given', () => {
    const file = join(dir, 'db_password');
    writeFileSync(file, 'from-a-file\n');
    const base = { ...PROD, DB_PASSWORD: '', GRPC_ALLOW_INSECURE_PRODUCTION: 'true' };
    expect(load({ ...base, DB_PASSWORD_FILE: file }).db.password).toEqual({ kind: 'file', path: file });
    expect(load({ ...base, DB_HOST: '', DATABASE_URL: 'postgresql://app:in-the-url@db.internal/coaching' }).db.password.kind).toBe('literal');
  });

  it('DB_AUTH=certificate needs a client certificate and TLS; the files must exist and come in pairs', () => {
    const base = { ...PROD, DB_PASSWORD: '', DB_AUTH: 'certificate', GRPC_ALLOW_INSECURE_PRODUCTION: 'true' };
    expect(problems(base)).toEqual([expect.stringMatching(/^DB_AUTH is "certificate": set DB_SSL_CERT and DB_SSL_KEY/)]);
    expect(load({ ...base, DB_SSL_CERT: cert, DB_SSL_KEY: key }).db).toMatchObject({ auth: 'certificate', sslCert: cert, sslKey: key });
    expect(problems({ ...base, DB_SSL_CERT: cert, DB_SSL_KEY: key, DB_SSL_MODE: 'disable', DB_ALLOW_INSECURE_PRODUCTION: 'true' })).toEqual([
      expect.stringMatching(/^DB_AUTH /),
    ]);
    expect(problems({ APP_ENV: 'test', DB_SSL_CERT: cert })).toEqual([expect.stringMatching(/^DB_SSL_CERT and DB_SSL_KEY must be set together/)]);
    expect(problems({ APP_ENV: 'test', DB_SSL_CERT: join(dir, 'absent.crt'), DB_SSL_KEY: key })).toEqual([
      expect.stringMatching(/^DB_SSL_CERT names a file that does not exist/),
    ]);
  });

  it('refuses an unknown DB_AUTH', () => {
    expect(problems({ APP_ENV: 'test', DB_AUTH: 'kerberos' })).toEqual([expect.stringMatching(/^DB_AUTH must be one of password \| trust \| certificate/)]);
  });
});

describe('gRPC TLS', () => {
  it('production refuses plaintext unless GRPC_ALLOW_INSECURE_PRODUCTION=true', () => {
    expect(problems(PROD)).toEqual([expect.stringMatching(/^GRPC_TLS_CERT_FILE is required when APP_ENV=production.*GRPC_ALLOW_INSECURE_PRODUCTION=true/)]);
    expect(load({ ...PROD, GRPC_ALLOW_INSECURE_PRODUCTION: 'true' }).grpc.tls).toBeUndefined();
    expect(load({ ...PROD, GRPC_TLS_CERT_FILE: cert, GRPC_TLS_KEY_FILE: key }).grpc.tls).toEqual({
      certFile: cert,
      keyFile: key,
      clientCaFile: undefined,
      clientAuth: 'none',
    });
    // Other environments may run plaintext.
    expect(load({ ...PROD, APP_ENV: 'staging' }).grpc.tls).toBeUndefined();
  });

  it('client certificates: a CA alone means require; request/require need a CA; none of it without a server certificate', () => {
    const tls = { APP_ENV: 'test', GRPC_TLS_CERT_FILE: cert, GRPC_TLS_KEY_FILE: key };
    expect(load({ ...tls, GRPC_TLS_CLIENT_CA_FILE: ca }).grpc.tls?.clientAuth).toBe('require');
    expect(load({ ...tls, GRPC_TLS_CLIENT_CA_FILE: ca, GRPC_TLS_CLIENT_AUTH: 'request' }).grpc.tls?.clientAuth).toBe('request');
    expect(problems({ ...tls, GRPC_TLS_CLIENT_AUTH: 'require' })).toEqual([
      expect.stringMatching(/^GRPC_TLS_CLIENT_AUTH is "require" but GRPC_TLS_CLIENT_CA_FILE is not set/),
    ]);
    expect(problems({ ...tls, GRPC_TLS_CLIENT_AUTH: 'sometimes' })).toEqual([
      expect.stringMatching(/^GRPC_TLS_CLIENT_AUTH must be one of none \| request \| require/),
    ]);
    expect(problems({ APP_ENV: 'test', GRPC_TLS_CLIENT_CA_FILE: ca })).toEqual([expect.stringMatching(/^GRPC_TLS_CLIENT_CA_FILE .*need GRPC_TLS_CERT_FILE/)]);
    expect(problems({ APP_ENV: 'test', GRPC_TLS_CERT_FILE: cert })).toEqual([
      expect.stringMatching(/^GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together/),
    ]);
    expect(problems({ ...tls, GRPC_TLS_KEY_FILE: join(dir, 'absent.key') })).toEqual([
      expect.stringMatching(/^GRPC_TLS_KEY_FILE names a file that does not exist/),
    ]);
  });
});

describe('gRPC limits', () => {
  it('reads every limit, and 0 means "never" for idle, age and grace', () => {
    const { limits } = load({
      APP_ENV: 'test',
      GRPC_MAX_CONCURRENT_STREAMS: '7',
      GRPC_MAX_RECEIVE_MESSAGE_BYTES: '2048',
      GRPC_MAX_SEND_MESSAGE_BYTES: '4096',
      GRPC_KEEPALIVE_TIME_MS: '1000',
      GRPC_KEEPALIVE_TIMEOUT_MS: '500',
      GRPC_KEEPALIVE_MIN_PING_INTERVAL_MS: '0',
      GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS: 'true',
      GRPC_KEEPALIVE_MAX_PING_STRIKES: '0',
      GRPC_MAX_CONNECTION_IDLE_MS: '0',
      GRPC_MAX_CONNECTION_AGE_MS: '0',
      GRPC_MAX_CONNECTION_AGE_GRACE_MS: '0',
      GRPC_HEALTH_WATCH_MAX_STREAMS: '5',
      GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION: '2',
      GRPC_HEALTH_WATCH_MAX_STREAMS_PER_PEER: '3',
      GRPC_MAX_CONNECTIONS: '0',
      GRPC_MAX_CONNECTIONS_PER_PEER: '0',
      GRPC_HANDSHAKE_TIMEOUT_MS: '700',
      GRPC_MAX_CONNECTION_BUFFERED_BYTES: '65536',
      GRPC_REQUEST_MESSAGE_TIMEOUT_MS: '900',
    }).grpc;
    expect(limits).toEqual({
      maxConcurrentStreams: 7,
      maxReceiveMessageBytes: 2048,
      maxSendMessageBytes: 4096,
      keepaliveTimeMs: 1000,
      keepaliveTimeoutMs: 500,
      keepaliveMinPingIntervalMs: 0,
      keepalivePermitWithoutCalls: true,
      keepaliveMaxPingStrikes: 0,
      maxConnectionIdleMs: 0,
      maxConnectionAgeMs: 0,
      maxConnectionAgeGraceMs: 0,
      healthWatchMaxStreams: 5,
      healthWatchMaxStreamsPerPeer: 3,
      maxConnections: 0,
      maxConnectionsPerPeer: 0,
      handshakeTimeoutMs: 700,
      maxConnectionBufferedBytes: 65536,
      requestMessageTimeoutMs: 900,
      healthWatchMaxStreamsPerConnection: 2,
    });
  });

  it('refuses out-of-range limits and a per-connection Watch bound above the others', () => {
    const found = problems({
      APP_ENV: 'test',
      GRPC_MAX_CONCURRENT_STREAMS: '0',
      GRPC_MAX_RECEIVE_MESSAGE_BYTES: '10',
      GRPC_HEALTH_WATCH_MAX_STREAMS: '3',
      GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION: '4',
    });
    expect(found).toEqual([
      expect.stringMatching(/^GRPC_MAX_CONCURRENT_STREAMS must be a whole number from 1 to 10000/),
      expect.stringMatching(/^GRPC_MAX_RECEIVE_MESSAGE_BYTES must be a whole number from 1024/),
      expect.stringMatching(/^GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION must not exceed GRPC_HEALTH_WATCH_MAX_STREAMS \(3\)/),
    ]);
  });
});

describe('admin listener', () => {
  it('defaults to 127.0.0.1:50052 outside tests, and must not share a port with gRPC or metrics', () => {
    expect(load({ APP_ENV: 'development', DB_HOST: 'db' }).admin).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 50052,
      tls: undefined,
      tokenFile: undefined,
    });
    expect(problems({ APP_ENV: 'test', ADMIN_GRPC_PORT: '50051' })).toEqual([expect.stringMatching(/^ADMIN_GRPC_PORT must differ from GRPC_PORT/)]);
    expect(problems({ APP_ENV: 'test', ADMIN_GRPC_PORT: '9000', METRICS_PORT: '9000' })).toEqual([
      expect.stringMatching(/^ADMIN_GRPC_PORT must differ from METRICS_PORT/),
    ]);
    expect(load({ APP_ENV: 'test', ADMIN_GRPC_ENABLED: 'false', ADMIN_GRPC_PORT: '50051' }).admin.enabled).toBe(false);
  });

  it('in staging and production leaves loopback only with TLS and a caller check', () => {
    const base = { ...PROD, GRPC_ALLOW_INSECURE_PRODUCTION: 'true', ADMIN_GRPC_HOST: '0.0.0.0' };
    expect(problems(base)).toEqual([expect.stringMatching(/^ADMIN_GRPC_HOST is "0.0.0.0", reachable from other machines, in production/)]);
    expect(problems({ ...base, ADMIN_TOKEN_FILE: token })).toHaveLength(1);
    expect(problems({ ...base, ADMIN_TLS_CERT_FILE: cert, ADMIN_TLS_KEY_FILE: key })).toHaveLength(1);
    const withToken = load({ ...base, ADMIN_TLS_CERT_FILE: cert, ADMIN_TLS_KEY_FILE: key, ADMIN_TOKEN_FILE: token }).admin;
    expect(withToken).toMatchObject({ host: '0.0.0.0', tokenFile: token, tls: { certFile: cert, clientAuth: 'none' } });
    const withMtls = load({ ...base, ADMIN_TLS_CERT_FILE: cert, ADMIN_TLS_KEY_FILE: key, ADMIN_TLS_CLIENT_CA_FILE: ca }).admin;
    expect(withMtls.tls?.clientAuth).toBe('require');
    // Loopback needs neither; nor does development.
    expect(load({ ...base, ADMIN_GRPC_HOST: '::1' }).admin.host).toBe('::1');
    expect(load({ APP_ENV: 'development', DB_HOST: 'db', ADMIN_GRPC_HOST: '0.0.0.0' }).admin.host).toBe('0.0.0.0');
  });

  it('refuses an ADMIN_TOKEN_FILE that does not exist', () => {
    const found = problems({ APP_ENV: 'test', ADMIN_TOKEN_FILE: join(dir, 'no-such-token') });
    expect(found).toEqual([expect.stringMatching(/^ADMIN_TOKEN_FILE names a file that does not exist/)]);
  });
});

describe('secretValues', () => {
  it('lists every secret of the configuration for the scrubber, and nothing empty', () => {
    const config = load({
      APP_ENV: 'test',
      DATABASE_URL: 'postgresql://app:db-Pa55word@db/coaching',
      PAGE_TOKEN_SECRET: 'page-token-secret-0123',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/services/T000/B000/XXXXXXXX',
      HEALTH_DEPENDENCIES: JSON.stringify([
        { name: 'billing-api', type: 'HTTP_SERVICE', url: 'https://user:billing-Pa55@billing.example.com/healthz' },
        { name: 'search-api', type: 'HTTP_SERVICE', url: 'https://search-token-123@search.example.com/healthz' },
        { name: 'plain-api', type: 'HTTP_SERVICE', url: 'https://plain.example.com/healthz' },
      ]),
    });
    expect(secretValues(config).sort()).toEqual(
      ['db-Pa55word', 'page-token-secret-0123', 'https://hooks.example.com/services/T000/B000/XXXXXXXX', 'billing-Pa55', 'search-token-123'].sort(),
    );
  });
});
