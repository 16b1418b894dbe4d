/**
 * Reads with a deadline in one round trip (README "Design decisions": one round
 * trip per read): the connection's session statement_timeout is kept under the
 * caller's deadline, set only when it must change, and PostgreSQL still stops
 * working when the caller's time is up.
 */
import pino from 'pino';
import { Client } from 'pg';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createDatabasePool } from '../src/db/createDatabasePool';
import { gatewayOnPool } from '../src/db/gatewayOnPool';
import { boundsStatementsPerConnection, timeoutBucketMs, timeoutToSet } from '../src/db/sessionStatementTimeout';
import { DomainError } from '../src/domain/errors';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';
import { waitFor } from './support/waitFor';
import { recordingDriver as countingDriver } from './support/recordingDriver';

/** A connection to hold locks with, and how many other backends of the database wait on a lock now. */
async function lockHolder(db: TestDatabase): Promise<{ locker: Client; waiting: () => Promise<number> }> {
  const locker = new Client({ connectionString: db.url, application_name: 'lock-holder' });
  await locker.connect();
  const waiting = async () =>
    (
      await db.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name <> 'lock-holder' and wait_event_type = 'Lock'`,
      )
    )[0]!.n;
  return { locker, waiting };
}

const logger = pino({ level: 'silent' });
const timeoutRow = z.object({ statement_timeout: z.string() });
const soon = (ms: number) => ({ deadline: new Date(Date.now() + ms) });

describe('timeoutBucketMs', () => {
  it('keeps one significant digit, never above the time left, capped by the pool timeout', () => {
    expect(timeoutBucketMs(4990, 30_000)).toBe(4000);
    expect(timeoutBucketMs(999, 30_000)).toBe(900);
    expect(timeoutBucketMs(25, 30_000)).toBe(20);
    expect(timeoutBucketMs(0.4, 30_000)).toBe(1);
    expect(timeoutBucketMs(-5, 30_000)).toBe(1);
    expect(timeoutBucketMs(45_000, 30_000)).toBe(30_000);
  });
});

describe('timeoutToSet', () => {
  it('keeps a value that is under the time left and at most one bucket below it', () => {
    expect(timeoutToSet(4000, 4990, 30_000)).toBeUndefined();
    // A round 5 s deadline seen as 5 000 ms left, then 4 999: the value in place stays (it flipped on every such pair before).
    expect(timeoutToSet(4000, 5000, 30_000)).toBeUndefined();
    expect(timeoutToSet(4000, 4999, 30_000)).toBeUndefined();
    expect(timeoutToSet(900, 1000, 30_000)).toBeUndefined();
  });

  it('lowers a value above the time left, and raises one more than a bucket below it', () => {
    expect(timeoutToSet(4000, 3999, 30_000)).toBe(3000);
    expect(timeoutToSet(30_000, 4990, 30_000)).toBe(4000);
    expect(timeoutToSet(3000, 5000, 30_000)).toBe(5000);
    expect(timeoutToSet(800, 1000, 30_000)).toBe(1000);
    expect(timeoutToSet(-1, 4990, 30_000)).toBe(4000);
  });

  it('without a deadline, only the pool timeout itself fits', () => {
    expect(timeoutToSet(30_000, undefined, 30_000)).toBeUndefined();
    expect(timeoutToSet(20_000, undefined, 30_000)).toBe(30_000);
    expect(timeoutToSet(4000, undefined, 30_000)).toBe(30_000);
  });
});

describe('session statement_timeout per connection (session pool mode)', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  const sent: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // One connection, so every call below reuses the same physical connection and its session value.
    pool = await createDatabasePool(db.config({ DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '1' }).db, { driverFactory: countingDriver(sent) });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const gateway = () => gatewayOnPool(pool, db.config({ DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '1' }), logger);
  const showTimeout = (options?: { deadline: Date }) => gateway().read('show', (c) => c.oneFirst(sql.type(timeoutRow)`show statement_timeout`), options);

  it('a read with a deadline is one statement once the connection carries a fitting timeout', async () => {
    expect(boundsStatementsPerConnection(pool)).toBe(true);
    sent.length = 0;
    expect(await showTimeout(soon(4950))).toBe('4s');
    expect(sent).toEqual(['set statement_timeout = 4000', 'show statement_timeout']);
    sent.length = 0;
    for (let i = 0; i < 3; i += 1) expect(await showTimeout(soon(4950))).toBe('4s');
    // No BEGIN, no set_config, no COMMIT, and no SET: the value in place still fits.
    expect(sent).toEqual(['show statement_timeout', 'show statement_timeout', 'show statement_timeout']);
  });

  it('a shorter deadline lowers it; work without a deadline finds the pool timeout restored', async () => {
    // 750 ms left rounds down to 700 ms (600 ms if the machine is slow to send it): never above, never far below.
    expect(['700ms', '600ms']).toContain(await showTimeout(soon(750)));
    // A statement outside the gateway (housekeeping) must not inherit the caller's short limit.
    expect(await pool.oneFirst(sql.type(timeoutRow)`show statement_timeout`)).toBe('30s');
    // Nor a write without a deadline: it sleeps longer than the earlier read's limit and succeeds.
    await showTimeout(soon(300));
    sent.length = 0;
    await gateway().write('sleep', (tx) => tx.query(sql.unsafe`select pg_sleep(0.4)`));
    expect(sent[0]).toBe('set statement_timeout = 30000');
    expect(sent).toContain('START TRANSACTION');
  });

  it('a rolled-back transaction does not undo what the wrapper remembers', async () => {
    await expect(gateway().write('fails', (tx) => tx.query(sql.unsafe`select 1/0`), soon(5000))).rejects.toThrow();
    expect(await pool.oneFirst(sql.type(timeoutRow)`show statement_timeout`)).toBe('30s');
    expect(await showTimeout(soon(4950))).toBe('4s');
  });

  it('PostgreSQL stops a read blocked by a lock once the deadline passes, without a transaction', async () => {
    const { locker, waiting } = await lockHolder(db);
    try {
      await locker.query('begin');
      await locker.query('lock table profiles in access exclusive mode');
      sent.length = 0;
      const started = Date.now();
      const read = gateway().read('blocked', (c) => c.query(sql.unsafe`select count(*) from profiles`), soon(600));
      await waitFor('the read to wait on the lock', async () => ((await waiting()) === 1 ? true : undefined), { timeoutMs: 5000 });
      const error: unknown = await read.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).reason).toBe('DEADLINE_EXCEEDED');
      expect(Date.now() - started).toBeLessThan(3000);
      // The lock is still held, and the server is no longer working on the read.
      await waitFor('the server to stop the read while the lock is still held', async () => ((await waiting()) === 0 ? true : undefined), { timeoutMs: 2000 });
      expect(sent.some((s) => /^(start transaction|begin)/i.test(s))).toBe(false);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });
});

describe('writes on a bounded pool', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  const sent: string[] = [];
  const env = { DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '1' };
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = await createDatabasePool(db.config(env).db, { driverFactory: countingDriver(sent) });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('a write with a deadline needs no set_config: the session value fitted before START TRANSACTION bounds it', async () => {
    const gateway = gatewayOnPool(pool, db.config(env), logger);
    sent.length = 0;
    const inside = await gateway.write('show', (tx) => tx.oneFirst(sql.type(timeoutRow)`show statement_timeout`), soon(2500));
    expect(inside).toBe('2s');
    expect(sent.some((s) => s.includes('set_config'))).toBe(false);
    expect(sent.indexOf('set statement_timeout = 2000')).toBeLessThan(sent.indexOf('START TRANSACTION'));
  });

  it('a write blocked by a row lock stops at the deadline, and the server stops working on it', async () => {
    const [row] = await db.query<{ id: string }>(
      `insert into profiles (display_name, email, role, timezone) values ('Lock', 'lock-' || gen_random_uuid() || '@example.com', 'COACH', 'UTC') returning id`,
    );
    const { locker, waiting } = await lockHolder(db);
    try {
      await locker.query('begin');
      await locker.query('select 1 from profiles where id = $1 for update', [row!.id]);
      const write = gatewayOnPool(pool, db.config(env), logger).write(
        'blocked',
        (tx) => tx.query(sql.unsafe`update profiles set bio = 'late' where id = ${row!.id}`),
        soon(700),
      );
      const error: unknown = await write.catch((e: unknown) => e);
      expect((error as DomainError).reason).toBe('DEADLINE_EXCEEDED');
      await waitFor('the server to stop the write while the lock is still held', async () => ((await waiting()) === 0 ? true : undefined), { timeoutMs: 2000 });
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    expect((await db.query<{ bio: string }>('select bio from profiles where id = $1', [row!.id]))[0]!.bio).not.toBe('late');
  });
});

describe('transaction pool mode (PgBouncer): no session settings', () => {
  it('the pool is not wrapped, so reads with a short deadline keep SET LOCAL in a transaction', async () => {
    const db = await createTestDatabase();
    const sent: string[] = [];
    // A direct connection configured as if behind a transaction pooler (startup timeouts off).
    const config = db.config({ DB_POOL_MODE: 'transaction', DB_MIGRATE_ON_START: 'false', DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '1' });
    const pool = await createDatabasePool(config.db, { driverFactory: countingDriver(sent) });
    try {
      expect(boundsStatementsPerConnection(pool)).toBe(false);
      sent.length = 0;
      await gatewayOnPool(pool, config, logger).read('one', (c) => c.query(sql.unsafe`select 1`), soon(5000));
      expect(sent[0]).toBe('START TRANSACTION');
      expect(sent.some((s) => s.startsWith('set statement_timeout'))).toBe(false);
      expect(sent.some((s) => s.includes("set_config('statement_timeout'"))).toBe(true);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
