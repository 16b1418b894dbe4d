import { status } from '@grpc/grpc-js';
import { sql } from 'slonik';
import type { Config } from '../src/config/config';
import { ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { SecretRegistry } from '../src/log/SecretRegistry';
import { coachingApi } from './support/grpcClient';
import { healthApi } from './support/healthClient';
import { newProfile } from './support/profiles';
import { sample, scrape } from './support/promtool';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const FAST = { DB_HEALTH_CHECK_INTERVAL: '200ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '1000ms' };
const databases: TestDatabase[] = [];
async function database(options: { fromTemplate?: boolean } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase(options);
  databases.push(db);
  return db;
}
afterAll(async () => {
  for (const db of databases) await db.drop().catch(() => undefined);
});

/** A service whose reloads read `next.config` (what SIGHUP would read from the environment). */
async function reloadable(first: Config): Promise<{ svc: TestService; next: { config: Config } }> {
  const next = { config: first };
  const svc = await startTestService(first, { reloadConfig: () => next.config });
  await waitFor('readiness SERVING', () => svc.service.readiness.ready);
  return { svc, next };
}

const dbHealth = async (svc: TestService) => (await healthApi(svc.service.port).ok('getHealth', {})).dependencies.find((d) => d.name === 'postgresql-primary')!;
const profilesIn = async (db: TestDatabase): Promise<number> => Number((await db.query<{ n: number }>('select count(*)::int as n from profiles'))[0]!.n);

describe('reload', () => {
  it('runs the startup checks against the new target first: a database of another APP_ENV or a missing schema is refused and the old one keeps serving', async () => {
    const first = await database();
    const foreign = await database();
    await foreign.query(`update service_environment set app_env = 'staging'`);
    const { svc, next } = await reloadable(first.config(FAST));
    try {
      next.config = foreign.config(FAST);
      const guard = await svc.service.reload();
      expect(guard.ok).toBe(false);
      expect(guard.error).toMatch(/APP_ENV=staging.*APP_ENV=test|belongs to APP_ENV=staging/);
      next.config = first.config({ ...FAST, DB_SCHEMA: 'nowhere' });
      const schema = await svc.service.reload();
      expect(schema).toMatchObject({ ok: false, error: expect.stringMatching(/schema "nowhere" does not exist/) });

      // Still the first database: configuration, health, metrics and writes.
      expect(svc.service.configInForce().db).toMatchObject({ name: first.name, schema: 'public' });
      expect((await dbHealth(svc)).config).toMatchObject({ databaseName: first.name, schemaName: 'public' });
      await coachingApi(svc.client).ok('createProfile', { requestId: '', profile: newProfile() });
      expect(await profilesIn(first)).toBe(1);
      expect(await profilesIn(foreign)).toBe(0);
      const metrics = (await scrape(svc.service.metricsPort!)).text;
      expect(sample(metrics, 'coaching_config_reloads_total', { outcome: 'refused' })).toBe(2);
      expect(sample(metrics, 'coaching_service_info', { database_name: first.name })).toBe(1);
    } finally {
      await svc.stop();
    }
  });

  it('applied, moves everything to the new target: migrations run there first, then the pool, the health probe, GetHealth and the info metric follow', async () => {
    const first = await database();
    const empty = await database({ fromTemplate: false });
    const { svc, next } = await reloadable(first.config(FAST));
    try {
      next.config = empty.config(FAST);
      expect(await svc.service.reload()).toMatchObject({ ok: true });
      // The new target was migrated before the swap (DB_MIGRATE_ON_START is on in test).
      expect((await empty.query<{ n: number }>('select count(*)::int as n from schema_migrations'))[0]!.n).toBeGreaterThan(0);
      expect(svc.service.configInForce().db.name).toBe(empty.name);
      expect((await dbHealth(svc)).config).toMatchObject({ databaseName: empty.name });
      const metrics = (await scrape(svc.service.metricsPort!)).text;
      expect(sample(metrics, 'coaching_service_info', { database_name: empty.name })).toBe(1);
      expect(sample(metrics, 'coaching_service_info', { database_name: first.name })).toBeUndefined();
      expect(sample(metrics, 'coaching_config_reloads_total', { outcome: 'applied' })).toBe(1);
      await coachingApi(svc.client).ok('createProfile', { requestId: '', profile: newProfile() });
      expect(await profilesIn(empty)).toBe(1);
      expect(await profilesIn(first)).toBe(0);
    } finally {
      await svc.stop();
    }
  });

  it('the health probe follows the reload even around the pool: with the pool exhausted it reaches the new database, not the old one', async () => {
    const old = await database();
    const current = await database();
    const { svc, next } = await reloadable(old.config({ ...FAST, DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '0' }));
    try {
      next.config = current.config({ ...FAST, DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '0' });
      expect(await svc.service.reload()).toMatchObject({ ok: true });
      await old.drop();
      // Hold the only pooled connection: the probe must go around the pool, with the settings in force.
      const held = svc.service.pools.current().query(sql.unsafe`select pg_sleep(3)`);
      try {
        const seen = await waitFor('the probe to see the pool exhausted', async () => {
          const health = await dbHealth(svc);
          return health.status !== ServiceStatus.SERVICE_STATUS_HEALTHY ? health : undefined;
        });
        expect(seen).toMatchObject({ status: ServiceStatus.SERVICE_STATUS_DEGRADED, message: 'Connection pool exhausted; database reachable' });
      } finally {
        await held;
      }
    } finally {
      await svc.stop();
    }
  });
});

describe('secrets', () => {
  it('every secret of the configuration is registered with the scrubber at start', async () => {
    const db = await database();
    const secrets = new SecretRegistry();
    const pageSecret = 'page-token-secret-for-scrubbing';
    const webhook = 'https://hooks.example.com/services/T0/B0/very-secret-path';
    const config = db.config({
      PAGE_TOKEN_SECRET: pageSecret,
      ALERT_WEBHOOK_URL: webhook,
      HEALTH_DEPENDENCIES: JSON.stringify([{ name: 'billing-api', type: 'HTTP_SERVICE', url: 'http://ops:billing-Pa55word@127.0.0.1:9/healthz' }]),
    });
    const svc = await startTestService(config, { secrets });
    try {
      const text = `token ${pageSecret}; hook ${webhook}; pw billing-Pa55word`;
      expect(secrets.scrub(text)).toBe('token [redacted]; hook [redacted]; pw [redacted]');
      expect(svc.logs.text()).not.toContain(pageSecret);
    } finally {
      await svc.stop();
    }
  });
});

describe('a mixed-case DB_SCHEMA', () => {
  it('is quoted in search_path as in the migrations: the service migrates, serves and probes "CoachingData"', async () => {
    const db = await database({ fromTemplate: false });
    // As `npm run migrate -- up` would; the service's own migrations (DB_MIGRATE_ON_START) fill it.
    await db.query(`create schema "CoachingData"`);
    const svc = await startTestService(db.config({ ...FAST, DB_SCHEMA: 'CoachingData' }));
    try {
      await waitFor('readiness SERVING', () => svc.service.readiness.ready);
      const api = coachingApi(svc.client);
      const created = await api.ok('createProfile', { requestId: '', profile: newProfile() });
      expect((await api.ok('getProfile', { id: created.profile!.id })).profile?.email).toBe(created.profile!.email);
      expect(await db.query(`select count(*)::int as n from "CoachingData".profiles`)).toEqual([{ n: 1 }]);
      // Nothing went to a folded "coachingdata" or to public.
      expect(await db.query(`select nspname from pg_namespace where nspname in ('coachingdata', 'CoachingData') order by 1`)).toEqual([
        { nspname: 'CoachingData' },
      ]);
      expect(await db.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`)).toEqual([{ n: 0 }]);
      const health = await dbHealth(svc);
      expect(health).toMatchObject({ status: ServiceStatus.SERVICE_STATUS_HEALTHY, config: expect.objectContaining({ schemaName: 'CoachingData' }) });
      expect((await api.call('getProfile', { id: '00000000-0000-4000-8000-000000000000' })).error?.code).toBe(status.NOT_FOUND);
    } finally {
      await svc.stop();
    }
  });
});
