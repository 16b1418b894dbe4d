import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, readPassword, type Config } from '../src/config/config';
import { ConfigError } from '../src/config/ConfigError';
import { PROJECT_ROOT } from '../src/paths';

const SECRET = 'Sup3r-Secret-Pa55';
const NO_FILE = '/nonexistent/.env';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coaching-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(env: Record<string, string>, envFile = NO_FILE): Config {
  return loadConfig({ env, envFile });
}

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw). */
function problemsOf(env: Record<string, string>, envFile = NO_FILE): ConfigError {
  try {
    load(env, envFile);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

/** Everything a ConfigError could leak through: message, stack, problem list. */
function everyText(error: ConfigError): string {
  return [error.message, String(error), error.stack ?? '', JSON.stringify(error.problems)].join('\n');
}

// A valid production environment; each test breaks one thing. (Plaintext gRPC is allowed explicitly: the gRPC TLS rules have tests of their own.)
const PROD_BASE = {
  APP_ENV: 'production',
  DB_HOST: 'db.internal',
  DB_PASSWORD: 'a-production-db-password',
  PAGE_TOKEN_SECRET: 'a-production-page-secret',
  DB_SSL_ROOT_CERT: __filename,
  GRPC_ALLOW_INSECURE_PRODUCTION: 'true',
};
const STAGING_BASE = { APP_ENV: 'staging', DB_HOST: 'db', DB_PASSWORD: 'a-staging-db-password', PAGE_TOKEN_SECRET: 'x'.repeat(16) };

describe('defaults', () => {
  it('match the documented pool and timeout defaults', () => {
    const config = load({ APP_ENV: 'test' });
    expect(config.db).toMatchObject({
      maxConnections: 25,
      maxIdleConnections: 5,
      connectionMaxLifetimeMs: 3600_000,
      connectionMaxIdleTimeMs: 900_000,
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
      healthCheckIntervalMs: 30_000,
      pingTimeoutMs: 5_000,
      schema: 'public',
      sslMode: 'disable',
      port: 5432,
      embedded: false,
      migrateOnStart: true,
    });
    expect(config.grpc).toEqual({
      host: '0.0.0.0',
      port: 50051,
      tls: undefined,
      limits: {
        maxConcurrentStreams: 100,
        maxReceiveMessageBytes: 256 * 1024,
        maxSendMessageBytes: 4 * 1024 * 1024,
        keepaliveTimeMs: 60_000,
        keepaliveTimeoutMs: 20_000,
        keepaliveMinPingIntervalMs: 5_000,
        keepalivePermitWithoutCalls: false,
        keepaliveMaxPingStrikes: 2,
        maxConnectionIdleMs: 300_000,
        maxConnectionAgeMs: 300_000,
        maxConnectionAgeGraceMs: 30_000,
        healthWatchMaxStreams: 1000,
        healthWatchMaxStreamsPerConnection: 10,
        healthWatchMaxStreamsPerPeer: 100,
        maxConnections: 2000,
        maxConnectionsPerPeer: 200,
        handshakeTimeoutMs: 10_000,
        maxConnectionBufferedBytes: 64 * 1024 * 1024,
        requestMessageTimeoutMs: 30_000,
      },
    });
    // APP_ENV=test: a free port, so that test services never collide.
    expect(config.admin).toEqual({ enabled: true, host: '127.0.0.1', port: 0, tls: undefined, tokenFile: undefined });
    expect(config.metrics).toEqual({ enabled: true, host: '127.0.0.1', port: 0 });
    expect(config.db.auth).toBe('password');
    expect(config.logLevel).toBe('warn');
  });

  it('default to development on the embedded database when nothing is configured', () => {
    const config = load({});
    expect(config.appEnv).toBe('development');
    expect(config.logLevel).toBe('info');
    expect(config.db).toMatchObject({ embedded: true, migrateOnStart: true, sslMode: 'disable', port: 54329 });
    // On a developer's machine the admin and metrics listeners stay on loopback.
    expect(config.admin).toMatchObject({ host: '127.0.0.1', port: 50052 });
    expect(config.metrics).toMatchObject({ host: '127.0.0.1', port: 9464 });
  });

  it('are safe in production: TLS verify-full and no migrate-on-start', () => {
    const config = load(PROD_BASE);
    expect(config.db).toMatchObject({ embedded: false, sslMode: 'verify-full', migrateOnStart: false, host: 'db.internal' });
    // Scraped over the pod network; the admin listener stays on loopback.
    expect(config.metrics.host).toBe('0.0.0.0');
    expect(config.admin).toMatchObject({ host: '127.0.0.1', port: 50052 });
  });

  it('returns a frozen object', () => {
    const config = load({ APP_ENV: 'test' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.db)).toBe(true);
    expect(() => {
      (config.db as { maxConnections: number }).maxConnections = 1;
    }).toThrow(TypeError);
  });

  it('accepts .env.example as it is shipped', () => {
    const config = load({}, join(PROJECT_ROOT, '.env.example'));
    expect(config.appEnv).toBe('development');
    expect(config.db.maxConnections).toBe(25);
  });
});

describe('validation', () => {
  it('lists every problem at once, each naming its variable', () => {
    const error = problemsOf({
      APP_ENV: 'prod',
      GRPC_PORT: '70000',
      DB_HOST: 'db',
      DB_PORT: 'abc',
      DB_MAX_CONNECTIONS: '0',
      DB_STATEMENT_TIMEOUT: '1.5',
      DB_SSL_MODE: 'maybe',
      DB_MIGRATE_ON_START: 'perhaps',
      LOG_LEVEL: 'loud',
      DB_SCHEMA: 'bad schema;',
    });
    const keys = [
      'APP_ENV',
      'GRPC_PORT',
      'DB_PORT',
      'DB_MAX_CONNECTIONS',
      'DB_STATEMENT_TIMEOUT',
      'DB_SSL_MODE',
      'DB_MIGRATE_ON_START',
      'LOG_LEVEL',
      'DB_SCHEMA',
    ];
    expect(error.problems).toHaveLength(keys.length);
    for (const key of keys) {
      expect(error.problems.some((p) => p.startsWith(`${key} `))).toBe(true);
      expect(error.message).toContain(key);
    }
    // Each problem says what is allowed, not just that something is wrong.
    expect(error.problems.find((p) => p.startsWith('DB_PORT'))).toMatch(/whole number from 1 to 65535, got "abc"/);
    expect(error.problems.find((p) => p.startsWith('APP_ENV'))).toContain('development | test | staging | production');
  });

  it('refuses more idle connections than connections', () => {
    const error = problemsOf({ APP_ENV: 'test', DB_MAX_CONNECTIONS: '4', DB_MAX_IDLE_CONNECTIONS: '5' });
    expect(error.problems).toEqual([expect.stringMatching(/^DB_MAX_IDLE_CONNECTIONS .*DB_MAX_CONNECTIONS/)]);
  });

  it('requires a database outside development and test, and never falls back to the embedded one in production', () => {
    expect(problemsOf({ ...STAGING_BASE, DB_HOST: '' }).problems).toEqual([expect.stringMatching(/^DB_HOST /)]);
    const embedded = problemsOf({ ...PROD_BASE, DB_EMBEDDED: 'true' });
    expect(embedded.problems).toEqual([expect.stringMatching(/^DB_EMBEDDED .*production/)]);
  });

  it('requires a page token secret of at least 16 characters in staging and production', () => {
    const error = problemsOf({ ...PROD_BASE, PAGE_TOKEN_SECRET: 'short' });
    expect(error.problems).toEqual([expect.stringMatching(/^PAGE_TOKEN_SECRET /)]);
    expect(everyText(error)).not.toContain('short');
  });

  it('requires a root certificate for verify-ca / verify-full and checks that it exists', () => {
    const noCert: Record<string, string> = { ...PROD_BASE };
    delete noCert.DB_SSL_ROOT_CERT;
    expect(problemsOf(noCert).problems).toEqual([expect.stringMatching(/^DB_SSL_ROOT_CERT .*verify-full/)]);
    expect(problemsOf({ ...PROD_BASE, DB_SSL_ROOT_CERT: join(dir, 'missing.pem') }).problems).toEqual([
      expect.stringMatching(/^DB_SSL_ROOT_CERT .*does not exist/),
    ]);
  });
});

describe('production TLS guard', () => {
  it('refuses DB_SSL_MODE=disable in production', () => {
    const error = problemsOf({ ...PROD_BASE, DB_SSL_MODE: 'disable' });
    expect(error.problems).toEqual([expect.stringMatching(/^DB_SSL_MODE .*DB_ALLOW_INSECURE_PRODUCTION=true/)]);
  });

  it('refuses sslmode=disable given through DATABASE_URL in production too', () => {
    const error = problemsOf({ ...PROD_BASE, DATABASE_URL: 'postgresql://app@db.internal/coaching?sslmode=disable' });
    expect(error.problems.some((p) => p.startsWith('DB_SSL_MODE '))).toBe(true);
  });

  it('allows it only when explicitly allowed', () => {
    const config = load({ ...PROD_BASE, DB_SSL_MODE: 'disable', DB_ALLOW_INSECURE_PRODUCTION: 'true' });
    expect(config.db.sslMode).toBe('disable');
  });

  it('allows disable outside production', () => {
    expect(load({ ...STAGING_BASE, DB_SSL_MODE: 'disable' }).db.sslMode).toBe('disable');
  });
});

describe('sources', () => {
  it('parses DATABASE_URL instead of the DB_* parts', () => {
    const config = load({ APP_ENV: 'test', DATABASE_URL: 'postgresql://alice:p%40ss%2Fword@db.example.com:6543/coach_db?sslmode=require' });
    expect(config.db).toMatchObject({ host: 'db.example.com', port: 6543, name: 'coach_db', user: 'alice', sslMode: 'require', embedded: false });
    expect(readPassword(config.db.password)).toBe('p@ss/word');
  });

  it('lets an explicit DB_* key override the matching DATABASE_URL part', () => {
    const config = load({ APP_ENV: 'test', DATABASE_URL: 'postgres://alice@db.example.com/coach_db', DB_NAME: 'other_db', DB_PORT: '5433' });
    expect(config.db).toMatchObject({ host: 'db.example.com', name: 'other_db', port: 5433, user: 'alice' });
  });

  it('turns the embedded database off in development when DATABASE_URL is set', () => {
    expect(load({ DATABASE_URL: 'postgresql://alice@db.example.com/coach_db' }).db.embedded).toBe(false);
  });

  it('rejects a DATABASE_URL of another scheme or that is not a URL', () => {
    expect(problemsOf({ APP_ENV: 'test', DATABASE_URL: 'mysql://u@h/db' }).problems).toEqual([expect.stringMatching(/^DATABASE_URL .*postgresql:\/\//)]);
    expect(problemsOf({ APP_ENV: 'test', DATABASE_URL: 'not a url' }).problems).toEqual([expect.stringMatching(/^DATABASE_URL is not a valid URL/)]);
  });

  it('reads the password from DB_PASSWORD_FILE (trimmed), and re-reads it on every call', () => {
    const file = join(dir, 'db_password');
    writeFileSync(file, `${SECRET}\n`);
    const config = load({ APP_ENV: 'test', DB_HOST: 'db', DB_PASSWORD_FILE: file });
    expect(config.db.password).toEqual({ kind: 'file', path: file });
    expect(readPassword(config.db.password)).toBe(SECRET);
    writeFileSync(file, 'rotated-password\n');
    expect(readPassword(config.db.password)).toBe('rotated-password');
  });

  it('refuses a missing DB_PASSWORD_FILE, and DB_PASSWORD_FILE together with DB_PASSWORD', () => {
    expect(problemsOf({ APP_ENV: 'test', DB_PASSWORD_FILE: join(dir, 'absent') }).problems).toEqual([
      expect.stringMatching(/^DB_PASSWORD_FILE .*does not exist/),
    ]);
    const file = join(dir, 'pw2');
    writeFileSync(file, SECRET);
    const both = problemsOf({ APP_ENV: 'test', DB_PASSWORD_FILE: file, DB_PASSWORD: SECRET });
    expect(both.problems).toEqual([expect.stringMatching(/^DB_PASSWORD_FILE .*DB_PASSWORD/)]);
    expect(everyText(both)).not.toContain(SECRET);
  });

  it('merges the .env file under the environment: the environment wins', () => {
    const file = join(dir, 'service.env');
    writeFileSync(file, ['APP_ENV=test', 'DB_MAX_CONNECTIONS=40', 'LOG_LEVEL=debug', 'DB_SCHEMA=from_file', ''].join('\n'));
    const config = load({ LOG_LEVEL: 'error', DB_SCHEMA: 'from_env' }, file);
    expect(config.appEnv).toBe('test');
    expect(config.db.maxConnections).toBe(40);
    expect(config.logLevel).toBe('error');
    expect(config.db.schema).toBe('from_env');
  });

  it('finds the .env file through ENV_FILE, and reports problems of values that came from it', () => {
    const file = join(dir, 'bad.env');
    writeFileSync(file, 'APP_ENV=test\nDB_PORT=not-a-port\n');
    const config = loadConfig({ env: { ENV_FILE: file, DB_PORT: '6000' } });
    expect(config.appEnv).toBe('test');
    expect(config.db.port).toBe(6000);
    const error = problemsOf({}, file);
    expect(error.problems).toEqual([expect.stringMatching(/^DB_PORT /)]);
  });
});

describe('secrets never appear in a ConfigError', () => {
  it('hides the password of a DATABASE_URL with a bad sslmode, among other invalid values', () => {
    const error = problemsOf({
      APP_ENV: 'production',
      DATABASE_URL: `postgresql://app:${SECRET}@db.internal:5432/coaching?sslmode=sometimes`,
      DB_PORT: '99999',
      LOG_LEVEL: 'chatty',
      PAGE_TOKEN_SECRET: 'x'.repeat(20),
    });
    expect(error.problems.length).toBeGreaterThanOrEqual(3);
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('sslmode=sometimes');
    expect(everyText(error)).not.toContain(SECRET);
  });

  it('hides the password of a DATABASE_URL that cannot be parsed or has another scheme', () => {
    for (const url of [`postgresql://app:${SECRET}@db.internal:notaport/coaching`, `mysql://app:${SECRET}@db.internal/coaching`, `app:${SECRET}@db.internal`]) {
      const error = problemsOf({ APP_ENV: 'test', DATABASE_URL: url, DB_MAX_CONNECTIONS: 'lots' });
      expect(error.problems).toHaveLength(2);
      expect(everyText(error)).not.toContain(SECRET);
    }
  });

  it('hides invalid values of secret keys (password, token secret) while naming the key', () => {
    const error = problemsOf({ ...PROD_BASE, DB_SSL_MODE: 'disable', DB_PASSWORD: SECRET, PAGE_TOKEN_SECRET: 'Sup3r', DB_PORT: 'x' });
    expect(error.message).toContain('PAGE_TOKEN_SECRET');
    expect(error.message).toContain('DB_SSL_MODE');
    expect(everyText(error)).not.toContain(SECRET);
  });
});
