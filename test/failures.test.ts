import { status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { loadConfig } from '../src/config/config';
import type { Profile } from '../src/generated/coaching/v1/profile';
import { coachingApi } from './support/grpcClient';
import { startEmbeddedTestPostgres } from './support/postgresServer';
import { useHarness } from './support/harness';
import { serviceEnv, type TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { newProfile } from './support/profiles';

const SECRET = 'Sup3r-Secret-Pa55';

const failureProfile = (): Profile => newProfile({ displayName: 'Failure', timezone: 'Europe/Berlin', bio: 'before' });

describe('UNAVAILABLE while the database is down', () => {
  let pg: Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
  let svc: TestService;
  let api: ReturnType<typeof coachingApi>;

  beforeAll(async () => {
    // Its own server, so stopping it disturbs no other test; the superuser password is the recognisable one.
    pg = await startEmbeddedTestPostgres({ password: SECRET });
    const admin = new Client({ connectionString: pg.adminUrl });
    await admin.connect();
    await admin.query('create database coaching_failures');
    await admin.end();
    const url = new URL(pg.adminUrl);
    url.pathname = '/coaching_failures';
    svc = await startTestService(loadConfig({ env: serviceEnv(url.toString(), { DB_MIGRATE_ON_START: 'true', DB_CONNECT_TIMEOUT: '2' }) }));
    api = coachingApi(svc.client);
  });
  afterAll(async () => {
    await svc?.stop();
    await pg?.stop();
  });

  it('answers UNAVAILABLE with an operator-readable message, then recovers once the database is back', async () => {
    const created = (await api.ok('createProfile', { profile: failureProfile(), requestId: '' })).profile!;

    await pg.stopServer();
    const outage = [];
    for (let i = 0; i < 3; i++) outage.push(await api.call('getProfile', { id: created.id }, { deadlineMs: 15_000 }));
    for (const result of outage) {
      expect(result.error?.code).toBe(status.UNAVAILABLE);
      expect(result.error?.details).toMatch(/database/i);
      expect(result.error?.details).not.toContain(SECRET);
      expect(result.error?.details).not.toMatch(/postgres(ql)?:\/\//);
      expect(result.error?.details).not.toMatch(/select|from profiles/i);
    }
    const write = await api.call('createProfile', { profile: failureProfile(), requestId: '' }, { deadlineMs: 15_000 });
    expect(write.error?.code).toBe(status.UNAVAILABLE);

    await pg.start();
    const back = await waitFor(
      'GetProfile to succeed again after the database restarted',
      async () => (await api.call('getProfile', { id: created.id }, { deadlineMs: 5_000 })).response,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(back.profile).toEqual(created);
    // Writes work again too, on the same data.
    const updated = await api.ok('updateProfile', { profile: { ...created, bio: 'after' }, updateMask: ['bio'] });
    expect(updated.profile?.bio).toBe('after');
    expect(svc.logs.text()).not.toContain(SECRET);
  });
});

describe('DEADLINE_EXCEEDED behind a held row lock', () => {
  let db: TestDatabase;
  let api: ReturnType<typeof coachingApi>;
  /** Same database, default 30 s statement timeout: only the caller's deadline can stop its statements early. */
  let patient: TestService;
  let locker: Client;

  const h = useHarness({
    env: { DB_STATEMENT_TIMEOUT: '1' },
    setup: async () => {
      patient = await h.start();
      locker = new Client({ connectionString: h.db.url, application_name: 'lock-holder' });
      await locker.connect();
    },
    teardown: () => locker.end(),
  });
  beforeAll(() => ({ db, api } = h));

  /** Service statements currently waiting on a lock. */
  async function waitingOnLocks(): Promise<number> {
    const [row] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'coaching-service' and wait_event_type = 'Lock'`,
    );
    return row!.n;
  }

  async function row(id: string) {
    const [r] = await db.query<{ bio: string; version: number }>('select bio, version from profiles where id = $1', [id]);
    return r;
  }

  it('statement timeout: UpdateProfile returns DEADLINE_EXCEEDED and changes nothing', async () => {
    const p = (await api.ok('createProfile', { profile: failureProfile(), requestId: '' })).profile!;
    await locker.query('begin');
    try {
      await locker.query('select * from profiles where id = $1 for update', [p.id]);
      const started = Date.now();
      const result = await api.call('updateProfile', { profile: { ...p, bio: 'blocked' }, updateMask: ['bio'] }, { deadlineMs: 20_000 });
      expect(result.error?.code).toBe(status.DEADLINE_EXCEEDED);
      expect(result.error?.details).not.toMatch(/select|update|profiles/i);
      // Bounded by DB_STATEMENT_TIMEOUT (1 s), not by the client's 20 s.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await waitingOnLocks()).toBe(0);
    } finally {
      await locker.query('rollback');
    }
    expect(await row(p.id)).toEqual({ bio: 'before', version: 1 });
    expect((await api.ok('getProfile', { id: p.id })).profile).toEqual(p);
  });

  it('client deadline: the client sees DEADLINE_EXCEEDED, the server stops waiting, and nothing is written', async () => {
    const slow = coachingApi(patient.client);
    const p = (await slow.ok('createProfile', { profile: failureProfile(), requestId: '' })).profile!;
    await locker.query('begin');
    try {
      await locker.query('select * from profiles where id = $1 for update', [p.id]);
      const result = await slow.call('updateProfile', { profile: { ...p, bio: 'too late' }, updateMask: ['bio'] }, { deadlineMs: 200 });
      expect(result.error?.code).toBe(status.DEADLINE_EXCEEDED);
      // The server must give up too, long before its own 30 s statement timeout (the statement carries the caller's
      // remaining time), while the lock is still held: otherwise releasing the lock would let through a write the
      // client was told had failed.
      await waitFor('the service to stop waiting on the row lock', async () => ((await waitingOnLocks()) === 0 ? true : undefined), {
        timeoutMs: 5_000,
      });
    } finally {
      await locker.query('rollback');
    }
    expect(await row(p.id)).toEqual({ bio: 'before', version: 1 });
    // And the service is healthy afterwards: the same update succeeds now.
    const after = await slow.ok('updateProfile', { profile: { ...p, bio: 'now' }, updateMask: ['bio'] }, { deadlineMs: 5_000 });
    expect(after.profile?.bio).toBe('now');
  });
});
