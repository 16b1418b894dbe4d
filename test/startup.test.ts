import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startService } from '../src/app';
import { loadConfig, readPassword, type Config } from '../src/config/config';
import { createLogger } from '../src/log/createLogger';
import { SecretRegistry } from '../src/log/SecretRegistry';
import { prepareDatabase, StartupError, type StartupFailureKind } from '../src/db/prepareDatabase';
import { MIGRATIONS_DIR } from '../src/paths';
import { Role } from '../src/generated/coaching/v1/profile';
import { coachingApi, coachingClient } from './support/grpcClient';
import { serviceConnections } from './support/healthClient';
import { freePort, startEmbeddedTestPostgres } from './support/postgresServer';
import { childEnv, ensureBuilt, isListening, jsonLines, runNode, serviceProcessEnv, startNode } from './support/processes';
import { adminUrl, createTestDatabase, serviceEnv, type TestDatabase } from './support/testDatabase';
import { LogCapture } from './support/testService';
import { waitFor } from './support/waitFor';
import { newProfile } from './support/profiles';
import { waitUntilServing } from './support/serving';

const SECRET = 'Sup3r-Secret-Pa55';
const WRONG = 'Wr0ng-Guess-Pa55word';
const APP_ROLE = 'coaching_app';
const APP_DB = 'coaching_app_db';

type EmbeddedPg = Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
let pg: EmbeddedPg;
const databases: TestDatabase[] = [];

/** A URL on the password-authenticating embedded server. */
function embeddedUrl(user: string, password: string, database: string): string {
  return `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${pg.port}/${database}`;
}

async function database(options?: { fromTemplate?: boolean }): Promise<TestDatabase> {
  const db = await createTestDatabase(options);
  databases.push(db);
  return db;
}

async function closedPort(): Promise<number> {
  const port = await freePort();
  expect(await isListening(port)).toBe(false);
  return port;
}

/** Configuration for `url` with a known, free gRPC port (so "nothing listens" can be checked). */
async function configFor(url: string, overrides: Record<string, string> = {}): Promise<Config> {
  return loadConfig({ env: serviceEnv(url, { GRPC_PORT: String(await freePort()), DB_CONNECT_TIMEOUT: '3', ...overrides }) });
}

/**
 * Starts the service and expects it to refuse with `kind`: returns the
 * refusal, after checking that nothing listens on the configured port.
 */
async function refusal(config: Config, kind: StartupFailureKind): Promise<StartupError> {
  const logs = new LogCapture();
  const secrets = new SecretRegistry();
  secrets.add(readPassword(config.db.password));
  const logger = createLogger({ level: 'debug', secrets, destination: logs.stream });
  let caught: unknown;
  try {
    const running = await startService(config, { logger, secrets });
    await running.stop();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StartupError);
  const error = caught as StartupError;
  // Compared together so that a wrong kind shows the message that came with it.
  expect({ kind: error.kind, message: error.message }).toEqual({ kind, message: expect.any(String) });
  expect(await isListening(config.grpc.port)).toBe(false);
  return error;
}

beforeAll(async () => {
  pg = await startEmbeddedTestPostgres({ password: 'embedded-admin-pw' });
  const admin = new Client({ connectionString: pg.adminUrl });
  await admin.connect();
  await admin.query(`create role ${APP_ROLE} login password '${SECRET}'`);
  await admin.query(`create database ${APP_DB} owner ${APP_ROLE}`);
  await admin.end();
});
afterAll(async () => {
  for (const db of databases) await db.drop();
  await pg?.stop();
});

describe('startup refusals (in process)', () => {
  it('wrong password → credentials, naming the user and the keys to check, never a password', async () => {
    const error = await refusal(await configFor(embeddedUrl(APP_ROLE, WRONG, APP_DB)), 'credentials');
    expect(error.message).toContain(`user "${APP_ROLE}"`);
    expect(error.message).toMatch(/DB_PASSWORD/);
    expect(error.message).not.toContain(WRONG);
    expect(error.message).not.toContain(SECRET);
    // The same role with the right password is accepted (and migrates the fresh database): the password was the problem.
    await expect(
      prepareDatabase(await configFor(embeddedUrl(APP_ROLE, SECRET, APP_DB)), { migrate: true, migrationsDir: MIGRATIONS_DIR }),
    ).resolves.toBeUndefined();
  });

  it('unknown database → database, naming it and DB_NAME', async () => {
    const url = new URL(adminUrl());
    url.pathname = '/no_such_database_here';
    const error = await refusal(await configFor(url.toString()), 'database');
    expect(error.message).toContain('"no_such_database_here" does not exist');
    expect(error.message).toContain('DB_NAME');
  });

  it('missing schema → schema, naming it and DB_SCHEMA', async () => {
    const db = await database();
    const error = await refusal(await configFor(db.url, { DB_SCHEMA: 'nope' }), 'schema');
    expect(error.message).toContain('schema "nope" does not exist');
    expect(error.message).toContain('DB_SCHEMA');
    // Refusing must not have created it either.
    expect(await db.query(`select 1 from pg_namespace where nspname = 'nope'`)).toHaveLength(0);
  });

  it('pending migrations with migrate-on-start off → migrations, naming them and the command to run', async () => {
    const db = await database({ fromTemplate: false });
    const error = await refusal(await configFor(db.url, { DB_MIGRATE_ON_START: 'false' }), 'migrations');
    expect(error.message).toContain('pending migration');
    expect(error.message).toMatch(/\b0*1_profiles\b/);
    expect(error.message).toContain('npm run migrate -- up');
    expect(await db.query(`select to_regclass('profiles') as t`)).toEqual([{ t: null }]);
  });

  it('a migration this build does not know → migrations, naming its version', async () => {
    const db = await database();
    await db.query(`insert into schema_migrations (version, name, checksum) values (999, 'from_the_future', 'x')`);
    const error = await refusal(await configFor(db.url), 'migrations');
    expect(error.message).toContain('999');
    expect(error.message).toMatch(/does not know/);
  });

  it('an edited, already applied migration → migrations, naming its version', async () => {
    const db = await database();
    await db.query(`update schema_migrations set checksum = 'edited' where version = 1`);
    const error = await refusal(await configFor(db.url), 'migrations');
    expect(error.message).toMatch(/migration\(s\) 1 were edited/);
    expect(error.message).toContain('checksum');
  });

  it('environment guard: a staging service refuses a database that belongs to APP_ENV=test, and writes nothing to it', async () => {
    const db = await database();
    // Staging requires a password unless the server trusts the login (the machine's PostgreSQL does: TEST_DATABASE_URL).
    const auth = new URL(db.url).password === '' ? 'trust' : 'password';
    const staging = { APP_ENV: 'staging', PAGE_TOKEN_SECRET: 'staging-page-token-secret', DB_SSL_MODE: 'disable', DB_AUTH: auth };
    const before = await db.query('select version, checksum from schema_migrations order by version');
    for (const migrate of ['false', 'true']) {
      const error = await refusal(await configFor(db.url, { ...staging, DB_MIGRATE_ON_START: migrate }), 'environment');
      expect(error.message).toContain('APP_ENV=test');
      expect(error.message).toContain('APP_ENV=staging');
    }
    expect(await db.query('select app_env from service_environment')).toEqual([{ app_env: 'test' }]);
    expect(await db.query('select version, checksum from schema_migrations order by version')).toEqual(before);
  });

  it('a closed port → unreachable, naming host and port, both from startService and from prepareDatabase', async () => {
    const port = await closedPort();
    const url = `postgresql://app:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/coaching`;
    const error = await refusal(await configFor(url, { DB_REQUIRE_ON_STARTUP: 'true' }), 'unreachable');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/DB_HOST\/DB_PORT/);
    expect(error.message).not.toContain(SECRET);
    await expect(prepareDatabase(await configFor(url), { migrate: false, migrationsDir: MIGRATIONS_DIR })).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('leaves no connection behind after a refusal', async () => {
    const db = await database();
    await db.query(`insert into schema_migrations (version, name, checksum) values (998, 'unknown', 'x')`);
    await refusal(await configFor(db.url), 'migrations');
    await waitFor('the refused startup to close its connection', async () => ((await serviceConnections(db.name)) === 0 ? true : undefined));
  });
});

describe('the built service as a process', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('exits 2 on invalid configuration before listening, listing every problem on stderr', async () => {
    const port = await freePort();
    const result = await runNode(
      'dist/src/main.js',
      [],
      childEnv({ APP_ENV: 'production', GRPC_PORT: String(port), DB_PORT: 'abc', LOG_LEVEL: 'loud', DB_SSL_MODE: 'disable' }),
    );
    expect(result.code).toBe(2);
    // Production also requires a database password and TLS on the gRPC port.
    for (const key of ['DB_PORT', 'LOG_LEVEL', 'DB_SSL_MODE', 'DB_HOST', 'PAGE_TOKEN_SECRET', 'DB_PASSWORD', 'GRPC_TLS_CERT_FILE'])
      expect(result.stderr).toContain(key);
    expect(result.stderr).toMatch(/Invalid configuration \(7 problems\)/);
    expect(result.stdout).not.toContain('serving');
    expect(await isListening(port)).toBe(false);
  });

  it('refuses a DB_HOST list it cannot use with exit 2 and a short message naming DB_HOST', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `h${i}`).join(',');
    for (const [hosts, expected] of [
      ['db-a:5432,db-b:5433', /DB_HOST .*port.*DB_PORT/],
      ['[::1]', /DB_HOST .*brackets/],
      ['db a', /DB_HOST .*space or control character/],
      ['db\u0001a', /DB_HOST .*space or control character/],
      [many, /DB_HOST lists 5000 hosts; at most \d+/],
      [Array.from({ length: 30 }, () => 'h').join(','), /DB_HOST lists h:5432 twice/],
    ] as const) {
      const result = await runNode(
        'dist/src/main.js',
        [],
        childEnv({ APP_ENV: 'test', GRPC_PORT: String(await freePort()), DB_HOST: hosts, DB_PORT: '5432' }),
        20_000,
      );
      expect({ hosts: hosts.slice(0, 40), code: result.code }).toEqual({ hosts: hosts.slice(0, 40), code: 2 });
      expect(result.stderr).toMatch(expected);
      // One short message: no stack, no problem repeated per entry.
      expect(result.stderr.length).toBeLessThan(2048);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      expect(new Set(lines).size).toBe(lines.length);
    }
  });

  it('keeps a refusal short: a huge value is echoed cut, and the same problem is listed once', async () => {
    const huge = `${'x'.repeat(100_000)}\u{1F600}`;
    const headers = Array.from({ length: 3000 }, (_, i) => `k${i}=%ZZ`).join(',');
    for (const [key, value] of [
      ['OTEL_PROPAGATORS', huge],
      ['DB_PORT', huge],
      ['EVENTS_RELAY_INTERVAL', huge],
      ['OTEL_EXPORTER_OTLP_HEADERS', headers],
    ] as const) {
      const result = await runNode(
        'dist/src/main.js',
        [],
        childEnv({ APP_ENV: 'test', GRPC_PORT: String(await freePort()), DB_HOST: '127.0.0.1', [key]: value }),
        20_000,
      );
      expect({ key, code: result.code }).toEqual({ key, code: 2 });
      expect(result.stderr).toContain(`${key} `);
      expect(result.stderr).toMatch(/Invalid configuration \(1 problem\)/);
      expect(result.stderr.length).toBeLessThan(1024);
      expect(result.stderr).not.toContain('\uFFFD');
    }
  });

  it('exits 1 with a fatal JSON log line when the database is unreachable, never printing the password', async () => {
    const dbPort = await closedPort();
    const result = await runNode(
      'dist/src/main.js',
      [],
      childEnv({
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(await freePort()),
        DATABASE_URL: `postgresql://app:${SECRET}@127.0.0.1:${dbPort}/coaching`,
        DB_CONNECT_TIMEOUT: '3',
        DB_REQUIRE_ON_STARTUP: 'true',
      }),
    );
    expect(result.code).toBe(1);
    const fatal = jsonLines(result.stdout).find((line) => line.level === 'fatal');
    expect(fatal).toMatchObject({ startupFailure: 'unreachable', msg: expect.stringContaining(`cannot reach PostgreSQL at 127.0.0.1:${dbPort}`) });
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('exits 1 on a wrong password, naming the problem without the password', async () => {
    const result = await runNode(
      'dist/src/main.js',
      [],
      childEnv({
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(await freePort()),
        DATABASE_URL: embeddedUrl(APP_ROLE, WRONG, APP_DB),
      }),
    );
    expect(result.code).toBe(1);
    const fatal = jsonLines(result.stdout).find((line) => line.level === 'fatal');
    expect(fatal).toMatchObject({ startupFailure: 'credentials', msg: expect.stringContaining(`rejected user "${APP_ROLE}"`) });
    expect(result.stdout + result.stderr).not.toContain(WRONG);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('npm run check (cli/check.js) passes on a current database and fails on pending migrations', async () => {
    const current = await database();
    const ok = await runNode('dist/src/cli/check.js', [], childEnv({ APP_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: current.url }));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('database check passed');
    const fresh = await database({ fromTemplate: false });
    const refused = await runNode('dist/src/cli/check.js', [], childEnv({ APP_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: fresh.url }));
    expect(refused.code).toBe(1);
    expect(jsonLines(refused.stdout).find((l) => l.level === 'fatal')).toMatchObject({ startupFailure: 'migrations' });
    // check never migrates, even where migrate-on-start would.
    expect(await fresh.query(`select to_regclass('profiles') as t`)).toEqual([{ t: null }]);
  });

  it('serves on a good database, then on SIGTERM stops, closes the pool and exits 0', async () => {
    const db = await database();
    const port = await freePort();
    const service = startNode('dist/src/main.js', [], serviceProcessEnv(port, db.url, { DB_MAX_CONNECTIONS: '7' }));
    const client = coachingClient(port);
    try {
      await waitUntilServing(service, port);
      const serving = jsonLines(service.stdout()).find((l) => l.msg === 'coaching-service serving');
      expect(serving).toMatchObject({
        environment: 'test',
        database: { host: '127.0.0.1', name: db.name, schema: 'public', tls: 'disable' },
        pool: { max: 7 },
      });

      const created = await coachingApi(client).ok('createProfile', {
        profile: newProfile({ role: Role.ROLE_COACH, email: `proc-${randomUUID().slice(0, 8)}@example.com`, displayName: 'Process' }),
        requestId: '',
      });
      expect(await db.query('select id from profiles where id = $1', [created.profile!.id])).toHaveLength(1);
      // The pool holds connections now, so "none left" below means the pool was closed.
      expect(await serviceConnections(db.name)).toBeGreaterThan(0);
    } finally {
      client.close();
      service.child.kill('SIGTERM');
    }
    const finished = await service.exited(20_000);
    expect({ code: finished.code, signal: finished.signal }).toEqual({ code: 0, signal: null });
    const lines = jsonLines(finished.stdout);
    expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'SIGTERM' });
    expect(lines.some((l) => l.msg === 'coaching-service stopped')).toBe(true);
    const password = decodeURIComponent(new URL(db.url).password);
    if (password !== '') expect(finished.stdout + finished.stderr).not.toContain(password);
    await waitFor('the service connections to close', async () => ((await serviceConnections(db.name)) === 0 ? true : undefined));
  });
});
