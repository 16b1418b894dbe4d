/**
 * Degraded start and recovery on a real PostgreSQL that this file stops and
 * starts: the service starts without its database, answers fast and truthfully
 * while it is missing, and heals by itself, without a restart, when it comes back.
 */
import { randomUUID } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startService, type RunningService } from '../../src/app';
import { loadConfig, type Config } from '../../src/config/config';
import { StartupError } from '../../src/db/prepareDatabase';
import { createLogger } from '../../src/log/createLogger';
import { SecretRegistry } from '../../src/log/SecretRegistry';
import { coachingApi, coachingClient } from '../support/grpcClient';
import { freePort, startEmbeddedTestPostgres } from '../support/postgresServer';
import { serviceEnv } from '../support/testDatabase';
import { startTestService, type TestService } from '../support/testService';
import { createEmptyDatabase, isListening, newProfile, queryOnce } from './support/fixtures';
import { healthProbe } from './support/health';
import { timed } from './support/timed';
import { waitFor } from '../support/waitFor';

const PASSWORD = 'Resilience-Start-Pa55';
const WRONG_PASSWORD = 'Not-The-Pa55word';

type EmbeddedPg = Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
let pg: EmbeddedPg;
let databaseUp = false;
const cleanups: (() => Promise<void> | void)[] = [];

async function stopDatabase(): Promise<void> {
  await pg.stopServer('fast');
  databaseUp = false;
}

/** Starts the database; resolves with the time it began accepting connections. */
async function startDatabase(): Promise<number> {
  await pg.start();
  databaseUp = true;
  return Date.now();
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** A service configuration for `url`: fixed free gRPC port (to check nothing listens), fast reconnects. */
async function configFor(url: string, overrides: Record<string, string> = {}): Promise<Config> {
  return loadConfig({
    env: serviceEnv(url, {
      GRPC_PORT: String(await freePort()),
      DB_CONNECT_TIMEOUT: '2',
      DB_RECONNECT_MAX_DELAY_MS: '200',
      DB_MIGRATE_ON_START: 'true',
      ...overrides,
    }),
  });
}

async function started(config: Config): Promise<TestService> {
  const svc = await startTestService(config);
  cleanups.push(() => svc.stop());
  return svc;
}

function probe(port: number): ReturnType<typeof healthProbe> {
  const health = healthProbe(port);
  cleanups.push(() => health.close());
  return health;
}

/** Dependencies of a service whose logs no test reads. */
function quiet() {
  const secrets = new SecretRegistry();
  return { logger: createLogger({ level: 'silent', secrets }), secrets };
}

const reasonOf = (error: ServiceError | undefined): string | undefined => error?.metadata.get('x-error-reason')[0]?.toString();

beforeAll(async () => {
  pg = await startEmbeddedTestPostgres({ password: PASSWORD });
  databaseUp = true;
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  // Every test begins with the database running.
  if (!databaseUp) await startDatabase();
});
afterAll(async () => {
  await pg?.stop();
});

describe('database unreachable at start', () => {
  it('starts NOT_SERVING, fails fast with UNAVAILABLE, then migrates and becomes SERVING by itself when the database arrives', async () => {
    const db = await createEmptyDatabase(pg.adminUrl);
    await stopDatabase();
    const config = await configFor(db.url);

    const start = await timed(() => started(config));
    expect(start.error).toBeUndefined();
    expect(start.ms).toBeLessThan(5_000);
    const svc = start.value!;
    const health = probe(svc.service.port);
    expect(await health.check('readiness')).toBe('NOT_SERVING');
    expect(await health.check('')).toBe('NOT_SERVING');
    expect(await health.check('coaching.v1.CoachingService')).toBe('NOT_SERVING');
    expect(await health.check('liveness')).toBe('SERVING');
    const warning = svc.logs.records().find((r) => String(r.msg).startsWith('database unreachable at start'));
    expect(warning).toMatchObject({ level: 'warn', reason: expect.stringContaining(`127.0.0.1:${pg.port}`) });
    expect(svc.logs.text()).not.toContain(PASSWORD);

    const api = coachingApi(svc.client);
    const read = await timed(() => api.call('getProfile', { id: randomUUID() }, { deadlineMs: 10_000 }));
    expect(read.value?.error?.code).toBe(status.UNAVAILABLE);
    expect(read.value?.error?.details).toMatch(/not connected to the database yet/);
    expect(reasonOf(read.value?.error)).toBe('DATABASE_CONNECTING');
    expect(read.ms).toBeLessThan(2_000);
    const lost = newProfile();
    const write = await timed(() => api.call('createProfile', { profile: lost, requestId: '' }, { deadlineMs: 10_000 }));
    expect(write.value?.error?.code).toBe(status.UNAVAILABLE);
    expect(write.ms).toBeLessThan(2_000);

    const accepting = await startDatabase();
    await waitFor('readiness SERVING after the database started', async () => ((await health.check('readiness')) === 'SERVING' ? true : undefined), {
      timeoutMs: 10_000,
    });
    const readyMs = Date.now() - accepting;
    console.log(`degraded start: readiness SERVING ${readyMs} ms after the database accepted connections`);
    expect(readyMs).toBeLessThan(10_000);
    expect(await health.check('coaching.v1.CoachingService')).toBe('SERVING');
    expect(svc.logs.records().some((r) => r.msg === 'database connected after a degraded start: SERVING')).toBe(true);

    // The late connection migrated the empty database, and the service works on it.
    expect((await queryOnce<{ n: number }>(db.url, 'select count(*)::int as n from schema_migrations'))[0]!.n).toBeGreaterThan(0);
    const created = await api.ok('createProfile', { profile: newProfile(), requestId: '' });
    expect((await api.ok('getProfile', { id: created.profile!.id })).profile?.email).toBe(created.profile!.email);
    // Only the profile created after recovery exists: the refused write wrote nothing.
    expect(await queryOnce(db.url, 'select email from profiles')).toEqual([{ email: created.profile!.email }]);
    expect(lost.email).not.toBe(created.profile!.email);
  });

  it('DB_REQUIRE_ON_STARTUP=true makes it fatal: StartupError unreachable, and nothing listens', async () => {
    const db = await createEmptyDatabase(pg.adminUrl);
    await stopDatabase();
    const config = await configFor(db.url, { DB_REQUIRE_ON_STARTUP: 'true' });
    const outcome = await timed(() => startService(config, quiet()));
    if (outcome.value !== undefined) cleanups.push(() => outcome.value!.stop());
    expect(outcome.error).toBeInstanceOf(StartupError);
    expect(outcome.error).toMatchObject({ kind: 'unreachable', message: expect.stringContaining(`127.0.0.1:${pg.port}`) });
    expect((outcome.error as Error).message).not.toContain(PASSWORD);
    expect(outcome.ms).toBeLessThan(5_000);
    expect(await isListening(config.grpc.port)).toBe(false);
  });

  it('a wrong password still fails fast (credentials), although unreachability would be tolerated', async () => {
    const db = await createEmptyDatabase(pg.adminUrl);
    const config = await configFor(withPassword(db.url, WRONG_PASSWORD));
    expect(config.resilience.requireOnStartup).toBe(false);
    const outcome = await timed(() => startService(config, quiet()));
    if (outcome.value !== undefined) cleanups.push(() => outcome.value!.stop());
    expect(outcome.error).toBeInstanceOf(StartupError);
    expect(outcome.error).toMatchObject({ kind: 'credentials' });
    expect((outcome.error as Error).message).not.toContain(WRONG_PASSWORD);
    expect(outcome.ms).toBeLessThan(5_000);
    expect(await isListening(config.grpc.port)).toBe(false);
    // Refused before migrating: the database is still empty.
    expect(await queryOnce(db.url, `select to_regclass('schema_migrations') as t`)).toEqual([{ t: null }]);
  });

  it('a wrong password found only when the database arrives is reported as fatal, and readiness stays NOT_SERVING', async () => {
    const db = await createEmptyDatabase(pg.adminUrl);
    await stopDatabase();
    const config = await configFor(withPassword(db.url, WRONG_PASSWORD));
    const fatal: StartupError[] = [];
    const service: RunningService = await startService(config, { ...quiet(), onFatal: (error) => fatal.push(error) });
    cleanups.push(() => service.stop());
    const health = probe(service.port);
    expect(await health.check('readiness')).toBe('NOT_SERVING');

    await startDatabase();
    const [error] = await waitFor('onFatal after the database arrived', () => (fatal.length > 0 ? fatal : undefined), { timeoutMs: 10_000 });
    expect(error).toMatchObject({ kind: 'credentials' });
    expect(fatal).toHaveLength(1);
    expect(await health.check('readiness')).toBe('NOT_SERVING');
    const client = coachingClient(service.port);
    cleanups.push(() => client.close());
    expect((await coachingApi(client).call('getProfile', { id: randomUUID() }, { deadlineMs: 5_000 })).error?.code).toBe(status.UNAVAILABLE);
    expect(await queryOnce(db.url, `select to_regclass('schema_migrations') as t`)).toEqual([{ t: null }]);
  });
});

describe('database goes away under a running service', () => {
  it('fails fast with UNAVAILABLE, opens the breaker (readiness NOT_SERVING), and recovers without a restart', async () => {
    const db = await createEmptyDatabase(pg.adminUrl);
    // Breaker, retry and half-open settings are the defaults: the recovery time measured is the shipped one.
    const svc = await started(await configFor(db.url));
    const health = probe(svc.service.port);
    expect(await health.check('readiness')).toBe('SERVING');
    const api = coachingApi(svc.client);
    const kept = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;

    await stopDatabase();
    const down = Date.now();
    const outcomes: { code: status | 'OK'; reason?: string; ms: number; pushbackMs?: number }[] = [];
    await waitFor(
      'the breaker to open and readiness to report NOT_SERVING',
      async () => {
        const call = await timed(() => api.call('getProfile', { id: kept.id }, { deadlineMs: 10_000 }));
        const error = call.value?.error;
        const pushback = error?.metadata.get('retry-pushback-ms')[0];
        outcomes.push({ code: error?.code ?? 'OK', reason: reasonOf(error), ms: call.ms, ...(pushback !== undefined && { pushbackMs: Number(pushback) }) });
        return (await health.check('readiness')) === 'NOT_SERVING' && outcomes.some((o) => o.reason === 'CIRCUIT_OPEN') ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 20 },
    );
    const detectMs = Date.now() - down;
    expect(outcomes.every((o) => o.code === status.UNAVAILABLE)).toBe(true);
    expect(new Set(outcomes.map((o) => o.reason))).toEqual(new Set(['DATABASE_UNAVAILABLE', 'CIRCUIT_OPEN']));
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    expect(slowest).toBeLessThan(2_000);
    for (const o of outcomes.filter((x) => x.reason === 'CIRCUIT_OPEN')) {
      expect(o.pushbackMs).toBeGreaterThanOrEqual(0);
      expect(o.pushbackMs).toBeLessThanOrEqual(2_000);
    }
    expect(svc.service.policy.breakerState()).toBe('open');
    const refused = newProfile();
    const write = await timed(() => api.call('createProfile', { profile: refused, requestId: '' }, { deadlineMs: 10_000 }));
    expect(write.value?.error?.code).toBe(status.UNAVAILABLE);
    expect(write.ms).toBeLessThan(2_000);

    const accepting = await startDatabase();
    const recoveredAt = await waitFor(
      'a read to succeed after the database returned',
      async () => ((await api.call('getProfile', { id: kept.id }, { deadlineMs: 5_000 })).response?.profile?.id === kept.id ? Date.now() : undefined),
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    const recoverMs = recoveredAt - accepting;
    await waitFor('readiness SERVING again', async () => ((await health.check('readiness')) === 'SERVING' ? true : undefined), { timeoutMs: 10_000 });
    const readyMs = Date.now() - accepting;
    console.log(
      `database stopped under a running service: ${outcomes.length} calls during the outage, all UNAVAILABLE, slowest ${Math.round(slowest)} ms; ` +
        `detected (breaker open, NOT_SERVING) after ${detectMs} ms; first successful call ${recoverMs} ms and readiness SERVING ${readyMs} ms after the database accepted connections`,
    );
    expect(recoverMs).toBeLessThan(15_000);
    expect(svc.service.policy.breakerState()).toBe('closed');

    const after = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const rows = await queryOnce<{ email: string }>(db.url, 'select email from profiles order by create_time');
    expect(rows.map((r) => r.email)).toEqual([kept.email, after.email]);
    expect(rows.map((r) => r.email)).not.toContain(refused.email);
  });
});
