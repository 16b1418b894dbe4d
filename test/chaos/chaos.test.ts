/**
 * Chaos suite: a real PostgreSQL under the service, a steady load through a
 * real gRPC client, one fault at a time. Each scenario asserts the codes
 * clients got, detection and recovery times, and that no acknowledged write
 * was lost or duplicated; the summary table is printed at the end.
 */
import { status } from '@grpc/grpc-js';
import { failedByCode, renderTable, type ChaosRow } from './support/summary';
import { createChaosWorld, pgQuery, type ChaosWorld } from './support/chaosWorld';
import { startEmbeddedTestPostgres } from '../support/postgresServer';
import { waitFor } from '../support/waitFor';
import { coachingApi } from '../support/grpcClient';
import { Client } from 'pg';

type Server = Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
let server: Server;
const rows: ChaosRow[] = [];

beforeAll(async () => {
  server = await startEmbeddedTestPostgres();
});
afterAll(async () => {
  process.stdout.write(`\nChaos summary\n${renderTable(rows)}\n`);
  await server.stop();
});

async function warmUp(world: ChaosWorld): Promise<void> {
  world.load.start();
  await waitFor('load under way', () => (world.load.okSince(0) >= 20 ? true : undefined));
}

async function record(world: ChaosWorld, scenario: string, from: number, times: { detectS?: number; recoverS?: number }): Promise<ChaosRow> {
  await world.load.stop();
  const { lost, duplicated } = await world.verifyWrites();
  const outcomes = world.load.since(from);
  if (process.env.CHAOS_DEBUG) {
    const details: Record<string, number> = {};
    for (const o of outcomes)
      if (o.code !== status.OK) details[`${status[o.code]} ${o.details ?? ''}`] = (details[`${status[o.code]} ${o.details ?? ''}`] ?? 0) + 1;
    process.stdout.write(`${scenario}: ${JSON.stringify(details, null, 1)}\n`);
    process.stdout.write(
      world.svc.logs.lines
        .filter((l) => l.includes('"level":"error"'))
        .slice(0, 3)
        .join('\n') + '\n',
    );
  }
  const row: ChaosRow = { scenario, ...times, failedByCode: failedByCode(outcomes), lost, duplicated, calls: outcomes.length };
  rows.push(row);
  return row;
}

const seconds = (from: number, to: number | undefined): number | undefined => (to === undefined ? undefined : (to - from) / 1000);

describe.each(['fast', 'immediate'] as const)('database stopped (%s) and restarted under load', (mode) => {
  it('fails fast with UNAVAILABLE, flips readiness, recovers without restart, loses and duplicates nothing', async () => {
    const world = await createChaosWorld(server, `stop_${mode}`);
    try {
      await warmUp(world);
      const stoppedAt = Date.now();
      await server.stopServer(mode);
      const detectedAt = await waitFor('readiness NOT_SERVING', () => world.readiness.firstAfter(stoppedAt, false), { timeoutMs: 10_000 });
      // While it is down, calls keep failing fast rather than hanging until their deadline.
      const downFrom = Date.now();
      await waitFor('failures while down', () => (world.load.since(downFrom).length >= 20 ? true : undefined));
      const down = world.load.since(downFrom);
      expect(down.every((o) => o.code === status.UNAVAILABLE)).toBe(true);
      const slow = down.filter((o) => o.latencyMs > 1000);
      expect(slow.length).toBe(0);

      await server.start();
      const acceptingAt = Date.now();
      const firstOk = await waitFor('a successful call after restart', () => world.load.outcomes.find((o) => o.at >= acceptingAt && o.code === status.OK)?.at, {
        timeoutMs: 15_000,
      });
      await waitFor('readiness SERVING', () => world.readiness.firstAfter(acceptingAt, true), { timeoutMs: 15_000 });
      const row = await record(world, `stop database (${mode}) + restart`, stoppedAt, {
        detectS: seconds(stoppedAt, detectedAt),
        recoverS: seconds(acceptingAt, firstOk),
      });
      expect(Object.keys(row.failedByCode).every((code) => ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(code))).toBe(true);
      expect(row.recoverS).toBeLessThan(15);
      expect(row.lost).toBe(0);
      expect(row.duplicated).toBe(0);
    } finally {
      await world.close();
    }
  });
});

it('pg_terminate_backend on every pool connection: retried transparently, nothing lost or duplicated', async () => {
  const world = await createChaosWorld(server, 'terminate');
  try {
    await warmUp(world);
    const from = Date.now();
    for (let round = 0; round < 3; round++) {
      const terminated = await pgQuery<{ n: number }>(
        server.adminUrl,
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and application_name = 'coaching-service'`,
        [world.database],
      );
      expect(terminated[0]!.n).toBeGreaterThan(0);
      const okBefore = world.load.okSince(from);
      await waitFor('calls succeeding after termination', () => (world.load.okSince(from) >= okBefore + 10 ? true : undefined));
    }
    const row = await record(world, 'pg_terminate_backend all pool connections', from, { recoverS: 0 });
    expect(Object.keys(row.failedByCode).every((code) => code === 'UNAVAILABLE')).toBe(true);
    expect(world.readiness.serving).toBe(true);
    expect(row.lost).toBe(0);
    expect(row.duplicated).toBe(0);
  } finally {
    await world.close();
  }
});

it('queries hanging on a held lock: DEADLINE_EXCEEDED at the deadline, and the database stops working on them too', async () => {
  const world = await createChaosWorld(server, 'lock', { deadlineMs: 500 });
  const locker = new Client({ connectionString: world.adminUrl });
  locker.on('error', () => undefined);
  await locker.connect();
  try {
    await warmUp(world);
    const from = Date.now();
    await locker.query('begin');
    await locker.query('lock table profiles in access exclusive mode');
    await waitFor('timeouts while the lock is held', () =>
      world.load.since(from).filter((o) => o.code === status.DEADLINE_EXCEEDED).length >= 10 ? true : undefined,
    );
    await world.load.stop();
    // With the lock still held, the service's statements must already have been cancelled by statement_timeout.
    await waitFor(
      'no service backend left waiting on the lock',
      async () => {
        const [row] = await pgQuery<{ n: number }>(
          server.adminUrl,
          `select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'coaching-service' and wait_event_type = 'Lock'`,
          [world.database],
        );
        return row!.n === 0 ? true : undefined;
      },
      { timeoutMs: 3000 },
    );
    const released = Date.now();
    await locker.query('commit');
    world.load.start();
    const firstOk = await waitFor('success after the lock is released', () => world.load.outcomes.find((o) => o.at >= released && o.code === status.OK)?.at);
    const row = await record(world, 'lock held past deadlines', from, { recoverS: seconds(released, firstOk) });
    const failures = world.load.since(from).filter((o) => o.code !== status.OK);
    expect(failures.every((o) => o.code === status.DEADLINE_EXCEEDED)).toBe(true);
    // Bounded by the 500 ms deadline, not by the lock.
    expect(Math.max(...failures.map((o) => o.latencyMs))).toBeLessThan(1500);
    expect(row.lost).toBe(0);
    expect(row.duplicated).toBe(0);
  } finally {
    await locker.end().catch(() => undefined);
    await world.close();
  }
});

it('pool exhaustion: RESOURCE_EXHAUSTED at once instead of hanging', async () => {
  const world = await createChaosWorld(server, 'exhaust', {
    env: { DB_MAX_CONNECTIONS: '2', DB_MAX_IDLE_CONNECTIONS: '2', DB_BULKHEAD_QUEUE: '2', DB_BULKHEAD_QUEUE_TIMEOUT_MS: '300' },
  });
  const locker = new Client({ connectionString: world.adminUrl });
  locker.on('error', () => undefined);
  await locker.connect();
  try {
    const api = coachingApi(world.svc.client);
    const [known] = await pgQuery<{ id: string }>(world.adminUrl, 'select id from profiles limit 1');
    const id = known!.id;
    const from = Date.now();
    await locker.query('begin');
    await locker.query('lock table profiles in access exclusive mode');
    const burst = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const started = performance.now();
        const result = await api.call('getProfile', { id }, { deadlineMs: 3000 });
        return { code: result.error?.code ?? status.OK, ms: performance.now() - started };
      }),
    );
    await locker.query('commit');
    const exhausted = burst.filter((b) => b.code === status.RESOURCE_EXHAUSTED);
    expect(exhausted.length).toBeGreaterThanOrEqual(16);
    expect(Math.max(...exhausted.map((b) => b.ms))).toBeLessThan(1500);
    expect(burst.every((b) => [status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.OK].includes(b.code))).toBe(true);
    const after = await api.call('getProfile', { id }, { deadlineMs: 3000 });
    expect(after.error).toBeUndefined();
    rows.push({
      scenario: 'pool exhausted (2 connections, burst of 20)',
      failedByCode: failedByCode(burst.map((b) => ({ at: from, method: 'GetProfile' as const, code: b.code, latencyMs: b.ms }))),
      lost: 0,
      duplicated: 0,
      calls: burst.length,
      recoverS: seconds(from, Date.now()),
    });
  } finally {
    await locker.end().catch(() => undefined);
    await world.close();
  }
});

it('read-only database: reads keep serving, writes get UNAVAILABLE saying read-only, readiness stays SERVING', async () => {
  const world = await createChaosWorld(server, 'readonly');
  const terminate = () =>
    pgQuery(server.adminUrl, `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'coaching-service'`, [
      world.database,
    ]);
  try {
    await warmUp(world);
    const from = Date.now();
    await pgQuery(server.adminUrl, `alter database ${world.database} set default_transaction_read_only = on`);
    await terminate();
    const readOnlyFrom = Date.now();
    await waitFor('writes refused as read-only', () =>
      world.load.since(readOnlyFrom).filter((o) => o.method === 'CreateProfile' && o.details?.includes('read-only')).length >= 5 ? true : undefined,
    );
    const window = world.load.since(Date.now() - 300);
    await waitFor('reads served while read-only', () =>
      world.load.since(readOnlyFrom).filter((o) => o.method === 'GetProfile' && o.code === status.OK).length >= 10 ? true : undefined,
    );
    expect(world.readiness.serving).toBe(true);
    expect(window.filter((o) => o.method === 'CreateProfile' && o.code !== status.OK).every((o) => o.code === status.UNAVAILABLE)).toBe(true);

    await pgQuery(server.adminUrl, `alter database ${world.database} reset default_transaction_read_only`);
    await terminate();
    const writableAt = Date.now();
    const firstWrite = await waitFor(
      'writes succeed again',
      () => world.load.outcomes.find((o) => o.at >= writableAt && o.method === 'CreateProfile' && o.code === status.OK)?.at,
    );
    const row = await record(world, 'read-only database', from, { detectS: 0, recoverS: seconds(writableAt, firstWrite) });
    expect(Object.keys(row.failedByCode).every((code) => code === 'UNAVAILABLE')).toBe(true);
    expect(row.lost).toBe(0);
    expect(row.duplicated).toBe(0);
  } finally {
    await world.close();
  }
});
