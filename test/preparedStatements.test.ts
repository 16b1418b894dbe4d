/**
 * Named (prepared) statements (README "Design decisions": prepared statements):
 * each statement is prepared once per connection under a name from a hash of
 * its text, DB_PREPARED_STATEMENTS=false turns it off, and a migration that
 * changes a table's columns under a running pool does not break it.
 */
import { sql, type DatabasePool } from 'slonik';
import pino from 'pino';
import { z } from 'zod';
import { loadConfig } from '../src/config/config';
import { createDatabasePool } from '../src/db/createDatabasePool';
import { gatewayOnPool } from '../src/db/gatewayOnPool';
import { createStatementNamer } from '../src/db/preparedStatements';
import { createTestDatabase, serviceEnv, type TestDatabase } from './support/testDatabase';

const ONE_CONNECTION = { DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '1' };
const statementRow = z.object({ name: z.string(), statement: z.string() });

/** The statements prepared on the pool's (single) connection, read on that connection. */
const preparedOn = async (pool: DatabasePool) =>
  pool.connect(async (c) => c.any(sql.type(statementRow)`select name, statement from pg_prepared_statements where name like 's\\_%' order by name`));

describe('DB_PREPARED_STATEMENTS', () => {
  it('defaults to true in session pool mode and false in transaction mode; false is honoured', () => {
    const env = serviceEnv('postgresql://u@localhost/db');
    expect(loadConfig({ env }).db.preparedStatements).toBe(true);
    expect(loadConfig({ env: { ...env, DB_POOL_MODE: 'transaction', DB_MIGRATE_ON_START: 'false' } }).db.preparedStatements).toBe(false);
    expect(loadConfig({ env: { ...env, DB_PREPARED_STATEMENTS: 'false' } }).db.preparedStatements).toBe(false);
    expect(
      loadConfig({ env: { ...env, DB_POOL_MODE: 'transaction', DB_MIGRATE_ON_START: 'false', DB_PREPARED_STATEMENTS: 'true' } }).db.preparedStatements,
    ).toBe(true);
    expect(() => loadConfig({ env: { ...env, DB_PREPARED_STATEMENTS: 'sometimes' } })).toThrow(/DB_PREPARED_STATEMENTS/);
  });

  it('names a text by its hash: the same text the same name, another text another name', () => {
    const nameOf = createStatementNamer();
    expect(nameOf('select 1')).toBe(nameOf('select 1'));
    expect(nameOf('select 1')).not.toBe(nameOf('select 2'));
    expect(nameOf('select 1')).toMatch(/^s_[A-Za-z0-9_-]{20}$/);
  });
});

describe('named statements on a running pool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('prepares each statement once per connection, with placeholders and never the values', async () => {
    const pool = await createDatabasePool(db.config(ONE_CONNECTION).db);
    try {
      for (const id of ['a', 'b', 'c']) await pool.query(sql.unsafe`select count(*) from profiles where id::text = ${'secret-' + id}`);
      const prepared = await preparedOn(pool);
      const mine = prepared.filter((p) => p.statement.includes('from profiles where id::text'));
      expect(mine).toHaveLength(1);
      expect(mine[0]!.statement).toContain('$1');
      expect(JSON.stringify(prepared)).not.toContain('secret-');
      // Transaction control and settings are not prepared.
      expect(prepared.some((p) => /^\s*(start|commit|set)/i.test(p.statement))).toBe(false);
    } finally {
      await pool.end();
    }
  });

  it('DB_PREPARED_STATEMENTS=false sends unnamed statements', async () => {
    const pool = await createDatabasePool(db.config({ ...ONE_CONNECTION, DB_PREPARED_STATEMENTS: 'false' }).db);
    try {
      await pool.query(sql.unsafe`select count(*) from profiles`);
      expect(await preparedOn(pool)).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('a migration that changes the columns of a table under a running pool: reads keep working, no cached-plan error', async () => {
    await db.query('create table plan_probe (id int primary key, label text)');
    await db.query(`insert into plan_probe values (1, 'one')`);
    const pool = await createDatabasePool(db.config(ONE_CONNECTION).db);
    const gateway = gatewayOnPool(pool, db.config(ONE_CONNECTION), pino({ level: 'silent' }));
    const readAll = () => gateway.read('probe', (c) => c.one(sql.unsafe`select * from plan_probe where id = ${1}`), { deadline: new Date(Date.now() + 5000) });
    try {
      expect(await readAll()).toEqual({ id: 1, label: 'one' });
      expect((await preparedOn(pool)).some((p) => p.statement.includes('plan_probe'))).toBe(true);
      // The result type of the prepared `select *` changes under it (PostgreSQL: "cached plan must not change result type").
      await db.query(`alter table plan_probe add column note text not null default 'n'`);
      expect(await readAll()).toEqual({ id: 1, label: 'one', note: 'n' });
      await db.query('alter table plan_probe alter column id type bigint');
      expect(await readAll()).toEqual({ id: 1n, label: 'one', note: 'n' });
      await db.query('alter table plan_probe drop column label');
      expect(await readAll()).toEqual({ id: 1n, note: 'n' });
      // A parameter whose type was fixed when the statement was prepared (text), for a column retyped to integer:
      // the answer is what a fresh statement gets (22P02, invalid input), not the stale one's 42804.
      await pool.query(sql.unsafe`update plan_probe set note = ${'n'} where id = ${1}`);
      await db.query('alter table plan_probe alter column note drop default, alter column note type integer using 0');
      const retyped: unknown = await pool.query(sql.unsafe`update plan_probe set note = ${'n'} where id = ${1}`).catch((e: unknown) => e);
      expect((retyped as Error).constructor.name).toBe('InvalidInputError');
      await db.query(`alter table plan_probe alter column note type text using 'n', alter column note set default 'n'`);
      // A write in a transaction after the change prepares afresh too.
      await db.query(`alter table plan_probe add column extra int not null default 7`);
      const written = await gateway.write('probe', (tx) => tx.one(sql.unsafe`select * from plan_probe where id = ${1}`));
      expect(written).toEqual({ id: 1n, note: 'n', extra: 7 });
    } finally {
      await pool.end();
    }
  });
});
