/**
 * The service behind a real PgBouncer (Debian's, 1.18 here) in transaction
 * pooling, in front of the suite's PostgreSQL: what the default settings run
 * into, what DB_POOL_MODE=transaction needs from the role, and a
 * representative flow (CRUD, idempotent replay, deadlines) through it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { startService } from '../src/app';
import { loadConfig } from '../src/config/config';
import { StartupError } from '../src/db/prepareDatabase';
import { createLogger } from '../src/log/createLogger';
import { SecretRegistry } from '../src/log/SecretRegistry';
import { ListSessionsRequest } from '../src/generated/coaching/v1/coaching_service';
import { Profile, Role } from '../src/generated/coaching/v1/profile';
import { expectError } from './support/errorDetails';
import { coachingApi } from './support/grpcClient';
import { startPgBouncer, type PgBouncer } from './support/pgbouncer';
import { useHarness } from './support/harness';
import { adminQuery, adminUrl, serviceEnv, type TestDatabase } from './support/testDatabase';
import { LogCapture, startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { at, tableCounts, world } from './support/world';
import { describeWithTools } from './support/systemTools';

const SCHEMA = 'coaching';
const role = `coaching_pgb_${randomBytes(4).toString('hex')}`;
const password = `pw-${randomBytes(8).toString('hex')}`;

let db: TestDatabase;
let bouncer: PgBouncer;
/** The role's own connection straight to PostgreSQL (migrations, and rows to inspect). */
let directUrl: string;

// An empty database whose schema the role creates and owns (migrations run as the role, directly).
const h = useHarness({ service: false, fromTemplate: false });
beforeAll(async () => {
  ({ db } = h);
  await adminQuery(`create role ${role} login password '${password}'`);
  await adminQuery(`grant create, connect on database ${db.name} to ${role}`);
  const server = new URL(adminUrl());
  const asRole = new URL(db.url);
  asRole.username = role;
  asRole.password = password;
  directUrl = asRole.toString();
  // Startup requires DB_SCHEMA to exist (`migrate up` or the owner creates it); the migrations on start fill it.
  await direct(`create schema ${SCHEMA}`);
  bouncer = await startPgBouncer({ server: { host: server.hostname, port: Number(server.port) }, user: role, password, poolMode: 'transaction', poolSize: 5 });
}, 60_000);

afterAll(async () => {
  await bouncer?.stop();
  await adminQuery(`drop role if exists ${role}`);
});

/** The environment of a service that reaches the database through PgBouncer. */
const envThroughBouncer = (overrides: Record<string, string> = {}) =>
  serviceEnv(bouncer.url(db.name), { DB_SCHEMA: SCHEMA, DB_POOL_MODE: 'transaction', DB_MIGRATION_URL: directUrl, DB_STATEMENT_TIMEOUT: '2', ...overrides });

async function startFails(env: Record<string, string>): Promise<{ error: StartupError; logs: string }> {
  const logs = new LogCapture();
  const secrets = new SecretRegistry();
  secrets.add(password);
  const logger = createLogger({ level: 'info', secrets, destination: logs.stream });
  const error = await startService(loadConfig({ env }), { logger, secrets }).then(
    async (svc) => {
      await svc.stop();
      throw new Error('expected the service to refuse to start');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StartupError);
  return { error: error as StartupError, logs: logs.text() };
}

/** Runs SQL as the role straight on PostgreSQL, with the service's schema first on the path. */
async function direct<T extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]> {
  const client = new Client({ connectionString: directUrl, options: `-c search_path=${SCHEMA}` });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describeWithTools(['pgbouncer', 'postgresql-15'], 'startup behind PgBouncer', () => {
  it('with the default DB_POOL_MODE=session, reports the refused startup parameter as a pooler refusal, not as an unreachable database', async () => {
    const { error } = await startFails(envThroughBouncer({ DB_POOL_MODE: 'session', DB_MIGRATION_URL: '' }));
    expect(error.kind).toBe('pooler');
    expect(error.message).toMatch(/08P01: unsupported startup parameter: options/);
    expect(error.message).toMatch(/DB_POOL_MODE=transaction/);
    expect(error.message).not.toMatch(/cannot reach/);
    expect(error.message).not.toContain(password);
  });

  it('with DB_POOL_MODE=transaction, migrates over the direct connection, then refuses a role without the session defaults, naming the fix', async () => {
    const { error } = await startFails(envThroughBouncer());
    expect(error.kind).toBe('session-defaults');
    expect(error.message).toContain(`not DB_SCHEMA "${SCHEMA}"`);
    expect(error.message).toContain(`alter role "${role}" in database "${db.name}" set search_path = "${SCHEMA}"`);
    expect(error.message).toContain('statement_timeout is 0 ms');
    expect(error.message).toContain('idle_in_transaction_session_timeout is off');
    expect(error.message).toContain(`alter role "${role}" in database "${db.name}" set statement_timeout = '2s'`);
    // The migrations ran once, directly, as the role, into its own schema.
    const [applied] = await direct<{ n: number; owner: string }>(
      `select (select count(*)::int from schema_migrations) as n, (select nspowner::regrole::text from pg_namespace where nspname = $1) as owner`,
      [SCHEMA],
    );
    expect(applied).toEqual({ n: expect.any(Number), owner: role });
    expect(applied!.n).toBeGreaterThanOrEqual(3);
  });
});

describeWithTools(['pgbouncer', 'postgresql-15'], 'a representative flow through PgBouncer in transaction pooling', () => {
  let svc: TestService;
  let api: ReturnType<typeof coachingApi>;
  let w: ReturnType<typeof world>;
  let locker: Client;

  beforeAll(async () => {
    // What the runbook tells an operator to run once (as the database owner or a superuser).
    const settings = [
      `search_path = "${SCHEMA}"`,
      `TimeZone = 'UTC'`,
      `DateStyle = 'ISO, MDY'`,
      `statement_timeout = '2s'`,
      `idle_in_transaction_session_timeout = '2s'`,
    ];
    for (const setting of settings) {
      await adminQuery(`alter role ${role} in database ${db.name} set ${setting}`);
    }
    // Server connections opened before the change keep their old defaults.
    await bouncer.admin('RECONNECT');
    svc = await startTestService(loadConfig({ env: envThroughBouncer() }));
    api = coachingApi(svc.client);
    w = world(api);
    locker = new Client({ connectionString: db.url, application_name: 'lock-holder' });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await svc?.stop();
  });

  const counts = () => tableCounts((text) => direct(text));
  /** The service's statements (as the role, through PgBouncer's server connections) waiting on a lock. */
  const waitingOnLocks = async (): Promise<number> =>
    (await adminQuery<{ n: number }>(`select count(*)::int as n from pg_stat_activity where usename = $1 and wait_event_type = 'Lock'`, [role]))[0]!.n;

  it('creates, reads, lists, updates, completes and deletes', async () => {
    const before = await counts();
    const { coach, participant, program, enrollment, book } = await w.enrolled(2);
    const session = await book(at(1));
    expect((await api.ok('getSession', { id: session.id })).session).toEqual(session);
    const listed = await api.ok('listSessions', ListSessionsRequest.fromPartial({ participantId: participant.id, pageSize: 10 }));
    expect(listed.sessions.map((s) => s.id)).toEqual([session.id]);
    const renamed = await api.ok('updateProgram', { program: { ...program, title: 'Renamed through PgBouncer' }, updateMask: ['title'] });
    expect(renamed.program?.title).toBe('Renamed through PgBouncer');
    const done = await api.ok('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: 'via the pooler' });
    expect(done.enrollment?.completedSessions).toBe(1);
    const progress = await api.ok('getProgramProgress', { participantId: participant.id, programId: program.id });
    expect(progress.progress).toMatchObject({ completedSessions: 1, totalSessions: 2, percentComplete: 50 });
    const extra = await book(at(2));
    await api.ok('deleteSession', { id: extra.id, etag: extra.etag });
    expect(await direct('select id from sessions where id = $1', [extra.id])).toEqual([]);
    expect(await counts()).toEqual({
      ...before,
      profiles: before.profiles! + 2,
      programs: before.programs! + 1,
      enrollments: before.enrollments! + 1,
      sessions: before.sessions! + 1,
      // CompleteSession's request_id.
      idempotency_keys: before.idempotency_keys! + 1,
    });
    expect(enrollment.id).toBe(done.enrollment?.id);
    expect(coach.id).not.toBe(participant.id);
    // The work went through the pooler: PgBouncer counted transactions for this database.
    const stats = await bouncer.admin<{ database: string; total_xact_count: string }>('SHOW STATS');
    expect(Number(stats.find((s) => s.database === db.name)?.total_xact_count ?? 0)).toBeGreaterThan(10);
  });

  it('replays a write with the same request_id instead of applying it twice', async () => {
    const requestId = randomUUID();
    const profile = Profile.fromPartial({
      role: Role.ROLE_COACH,
      email: `replay-${requestId.slice(0, 8)}@example.com`,
      displayName: 'Replay',
      timezone: 'UTC',
    });
    const first = await api.ok('createProfile', { profile, requestId });
    const before = await counts();
    const again = await api.ok('createProfile', { profile, requestId });
    expect(again).toEqual(first);
    expect(await counts()).toEqual(before);
    expectError(await api.call('createProfile', { profile: { ...profile, displayName: 'Other' }, requestId }), status.ALREADY_EXISTS, 'REQUEST_ID_REUSED');
  });

  it("the role's statement_timeout (no startup parameter) stops a write blocked by a row lock", async () => {
    const coach = await w.coach('Blocked');
    await locker.query('begin');
    try {
      await locker.query(`select * from ${SCHEMA}.profiles where id = $1 for update`, [coach.id]);
      const started = Date.now();
      // The client allows 20 s; only the role's 2 s statement_timeout can end it sooner.
      const result = await api.call('updateProfile', { profile: { ...coach, bio: 'blocked' }, updateMask: ['bio'] }, { deadlineMs: 20_000 });
      expect(result.error?.code).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await waitingOnLocks()).toBe(0);
    } finally {
      await locker.query('rollback');
    }
    expect((await direct<{ bio: string }>('select bio from profiles where id = $1', [coach.id]))[0]?.bio).toBe(coach.bio);
  });

  it('a short client deadline becomes a transaction-local statement_timeout: the server stops waiting too', async () => {
    const coach = await w.coach('Deadline');
    await locker.query('begin');
    try {
      await locker.query(`select * from ${SCHEMA}.profiles where id = $1 for update`, [coach.id]);
      const result = await api.call('updateProfile', { profile: { ...coach, bio: 'too late' }, updateMask: ['bio'] }, { deadlineMs: 300 });
      expect(result.error?.code).toBe(status.DEADLINE_EXCEEDED);
      await waitFor('the service to stop waiting on the row lock', async () => (await waitingOnLocks()) === 0, { timeoutMs: 5_000 });
    } finally {
      await locker.query('rollback');
    }
    expect((await direct<{ bio: string }>('select bio from profiles where id = $1', [coach.id]))[0]?.bio).toBe(coach.bio);
    // The transaction-local timeout did not leak into the pooled server connection: a later write still works.
    const ok = await api.ok('updateProfile', { profile: { ...coach, bio: 'after' }, updateMask: ['bio'] });
    expect(ok.profile?.bio).toBe('after');
  });
});
