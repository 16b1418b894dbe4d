import { Client } from 'pg';
import { loadMigrations } from '../src/db/migrations';
import { Migrator } from '../src/db/Migrator';
import { MIGRATIONS_DIR } from '../src/paths';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';

let db: TestDatabase;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await db.drop();
});

const tables = async () =>
  (await db.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = 'public' order by 1`)).map((r) => r.t);

it('migration 0002 reverts cleanly and applies again', async () => {
  const migrator = new Migrator(client, 'public', 'test', loadMigrations(MIGRATIONS_DIR));
  expect(await tables()).toEqual(expect.arrayContaining(['enrollments', 'programs', 'sessions']));
  const reverted = await migrator.down(1);
  expect(reverted.map((m) => m.name)).toEqual(['programs_sessions_enrollments']);
  expect(await tables()).not.toEqual(expect.arrayContaining(['sessions']));
  expect(await db.query(`select 1 from pg_constraint where conname = 'profiles_id_role_key'`)).toEqual([]);
  const applied = await migrator.up();
  expect(applied.map((m) => m.version)).toEqual([2]);
  expect(await tables()).toEqual(expect.arrayContaining(['enrollments', 'programs', 'sessions']));
});
