import { Client } from 'pg';
import { loadMigrations } from '../src/db/migrations';
import { Migrator } from '../src/db/Migrator';
import { MIGRATIONS_DIR } from '../src/paths';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';

let db: TestDatabase;
let client: Client;

const h = useHarness({
  service: false,
  setup: async () => {
    client = new Client({ connectionString: h.db.url });
    await client.connect();
  },
  teardown: () => client.end(),
});
beforeAll(() => ({ db } = h));

const tables = async () =>
  (await db.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = 'public' order by 1`)).map((r) => r.t);

const constraints = async () =>
  (
    await db.query<{ c: string }>(
      `select conname as c from pg_constraint
       where conname in ('programs_id_total_sessions_key', 'enrollments_program_total_sessions_fkey', 'enrollments_progress_within_program_check')
       order by 1`,
    )
  ).map((r) => r.c);

it('migrations 0005, 0004, 0003 and 0002 revert cleanly and apply again', async () => {
  const migrator = new Migrator(client, 'public', 'test', loadMigrations(MIGRATIONS_DIR));
  expect(await tables()).toEqual(expect.arrayContaining(['enrollments', 'programs', 'sessions', 'outbox', 'outbox_counters']));
  expect((await migrator.down(1)).map((m) => m.name)).toEqual(['outbox_sequence_at_commit']);
  expect(await db.query(`select 1 from pg_trigger where tgname = 'outbox_sequence_at_commit'`)).toEqual([]);
  expect(await db.query(`select is_nullable from information_schema.columns where table_name = 'outbox' and column_name = 'sequence'`)).toEqual([
    { is_nullable: 'NO' },
  ]);
  expect((await migrator.down(1)).map((m) => m.name)).toEqual(['outbox']);
  expect(await tables()).not.toEqual(expect.arrayContaining(['outbox']));
  expect(await tables()).not.toEqual(expect.arrayContaining(['outbox_counters']));
  expect(await constraints()).toHaveLength(3);
  expect((await migrator.down(1)).map((m) => m.name)).toEqual(['progress_within_program']);
  expect(await constraints()).toEqual([]);
  expect(await db.query(`select 1 from information_schema.columns where table_name = 'enrollments' and column_name = 'total_sessions'`)).toEqual([]);
  const reverted = await migrator.down(1);
  expect(reverted.map((m) => m.name)).toEqual(['programs_sessions_enrollments']);
  expect(await tables()).not.toEqual(expect.arrayContaining(['sessions']));
  expect(await db.query(`select 1 from pg_constraint where conname = 'profiles_id_role_key'`)).toEqual([]);
  const applied = await migrator.up();
  expect(applied.map((m) => m.version)).toEqual([2, 3, 4, 5]);
  expect(await tables()).toEqual(expect.arrayContaining(['enrollments', 'programs', 'sessions']));
  expect(await constraints()).toHaveLength(3);
});

it('migration 0003 copies total_sessions into enrollments and caps counts that ran past it', async () => {
  const migrator = new Migrator(client, 'public', 'test', loadMigrations(MIGRATIONS_DIR));
  await migrator.down(3);
  // Rows as an earlier version could leave them: one enrollment counted 3 completions toward a program of 2.
  const [coach] = await db.query<{ id: string }>(
    `insert into profiles (role, email, display_name, timezone) values ('COACH', 'c@example.com', 'C', 'UTC') returning id`,
  );
  const people = await db.query<{ id: string }>(
    `insert into profiles (role, email, display_name, timezone) values ('PARTICIPANT', 'p1@example.com', 'P', 'UTC'), ('PARTICIPANT', 'p2@example.com', 'P', 'UTC') returning id`,
  );
  const [program] = await db.query<{ id: string }>(`insert into programs (coach_id, title, total_sessions) values ($1, 'T', 2) returning id`, [coach!.id]);
  await db.query(
    `insert into enrollments (participant_id, program_id, status, completed_sessions, progress_percent) values ($1, $3, 'COMPLETED', 3, 100), ($2, $3, 'ACTIVE', 1, 50)`,
    [people[0]!.id, people[1]!.id, program!.id],
  );
  expect((await migrator.up()).map((m) => m.version)).toEqual([3, 4, 5]);
  expect(
    await db.query(
      `select participant_id, status, completed_sessions, total_sessions, progress_percent, version from enrollments order by completed_sessions desc`,
    ),
  ).toEqual([
    { participant_id: people[0]!.id, status: 'COMPLETED', completed_sessions: 2, total_sessions: 2, progress_percent: 100, version: 2 },
    { participant_id: people[1]!.id, status: 'ACTIVE', completed_sessions: 1, total_sessions: 2, progress_percent: 50, version: 1 },
  ]);
  // From now on the database refuses what the bug did, and a total that no longer matches the program.
  await expect(db.query(`update enrollments set completed_sessions = 3 where participant_id = $1`, [people[1]!.id])).rejects.toMatchObject({
    code: '23514',
    constraint: 'enrollments_progress_within_program_check',
  });
  await expect(db.query(`update programs set total_sessions = 1 where id = $1`, [program!.id])).rejects.toMatchObject({
    code: '23503',
    constraint: 'enrollments_program_total_sessions_fkey',
  });
  await expect(db.query(`update enrollments set total_sessions = 5 where participant_id = $1`, [people[1]!.id])).rejects.toMatchObject({
    code: '23503',
    constraint: 'enrollments_program_total_sessions_fkey',
  });
  await db.query('delete from enrollments');
  await db.query('delete from programs');
  await db.query('delete from profiles');
});
