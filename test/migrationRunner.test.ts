import { Client } from 'pg';
import { loadMigrations } from '../src/db/migrations';
import { DatabaseStateError, Migrator } from '../src/db/Migrator';
import { MIGRATIONS_DIR } from '../src/paths';
import { childEnv, ensureBuilt, jsonLines, runNode } from './support/processes';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';
import { waitFor } from './support/waitFor';

const migrations = loadMigrations(MIGRATIONS_DIR);
const TABLES = ['profiles', 'idempotency_keys'];
const databases: TestDatabase[] = [];
const clients: Client[] = [];

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ fromTemplate: false });
  databases.push(db);
  return db;
}

async function connect(db: TestDatabase): Promise<Client> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  clients.push(client);
  return client;
}

async function migrator(db: TestDatabase, appEnv = 'test'): Promise<Migrator> {
  return new Migrator(await connect(db), 'public', appEnv, migrations);
}

/** Which of the service's tables exist. */
async function presentTables(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<{ name: string }>(`select unnest($1::text[]) as name except select tablename from pg_tables where schemaname = 'public'`, [
    TABLES,
  ]);
  const missing = new Set(rows.map((r) => r.name));
  return TABLES.filter((t) => !missing.has(t));
}

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => undefined);
  for (const db of databases) await db.drop();
});

it('has numbered migrations with checksums', () => {
  expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  for (const m of migrations) {
    expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(m.down.trim()).not.toBe('');
  }
});

describe('up, down, up on a fresh database', () => {
  it('creates the tables, drops them again, and reports pending work correctly throughout', async () => {
    const db = await freshDatabase();
    const m = await migrator(db);
    const all = migrations.map((x) => x.version);

    const fresh = await m.status();
    expect(fresh.applied).toEqual([]);
    expect(fresh.pending.map((x) => x.version)).toEqual(all);
    expect(await presentTables(db)).toEqual([]);

    expect((await m.up()).map((x) => x.version)).toEqual(all);
    expect(await presentTables(db)).toEqual(TABLES);
    const applied = await m.status();
    expect(applied.pending).toEqual([]);
    expect(applied.applied.map((x) => [x.version, x.checksum])).toEqual(migrations.map((x) => [x.version, x.checksum]));
    expect(await m.recordedEnvironment()).toBe('test');
    await expect(m.assertCurrent()).resolves.toBeUndefined();
    expect(await m.up()).toEqual([]);

    expect((await m.down(migrations.length)).map((x) => x.version)).toEqual([...all].reverse());
    expect(await presentTables(db)).toEqual([]);
    const reverted = await m.status();
    expect(reverted.applied).toEqual([]);
    expect(reverted.pending.map((x) => x.version)).toEqual(all);
    await expect(m.assertCurrent()).rejects.toBeInstanceOf(DatabaseStateError);

    expect((await m.up()).map((x) => x.version)).toEqual(all);
    expect(await presentTables(db)).toEqual(TABLES);
    expect((await m.status()).pending).toEqual([]);
    // The data tables work after the round trip.
    await db.query(`insert into profiles (role, email, display_name, timezone) values ('COACH', 'a@example.com', 'A', 'UTC')`);
    expect(await db.query('select email from profiles')).toEqual([{ email: 'a@example.com' }]);
  });

  it('refuses to migrate a database of another environment', async () => {
    const db = await freshDatabase();
    await (await migrator(db, 'test')).up();
    const other = await migrator(db, 'production');
    await expect(other.up()).rejects.toMatchObject({ kind: 'environment' });
    await expect(other.down()).rejects.toMatchObject({ kind: 'environment' });
    expect(await presentTables(db)).toEqual(TABLES);
  });
});

describe('two replicas migrating together', () => {
  it('apply each migration once: the second waits on the advisory lock and finds nothing to do', async () => {
    const db = await freshDatabase();
    // Hold the migration lock so both runners are provably queued on it before either starts.
    const holder = await connect(db);
    await holder.query(`select pg_advisory_lock(hashtext('coaching-service:migrations'))`);
    const [a, b] = [await migrator(db), await migrator(db)];
    const runs = Promise.allSettled([a.up(), b.up()]);
    await waitFor('both migrators to wait on the advisory lock', async () => {
      const [row] = await db.query<{ n: number }>(`select count(*)::int as n from pg_locks
         where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`);
      return row!.n === 2 ? true : undefined;
    });
    await holder.query(`select pg_advisory_unlock(hashtext('coaching-service:migrations'))`);

    const [ra, rb] = await runs;
    expect(ra.status).toBe('fulfilled');
    expect(rb.status).toBe('fulfilled');
    const ran = [ra, rb].map((r) => (r.status === 'fulfilled' ? r.value.map((m) => m.version) : []));
    expect(ran.flat().sort()).toEqual(migrations.map((m) => m.version));
    expect(ran.some((versions) => versions.length === 0)).toBe(true);
    expect(await db.query('select version, count(*)::int as n from schema_migrations group by version order by version')).toEqual(
      migrations.map((m) => ({ version: m.version, n: 1 })),
    );
    expect(await db.query('select app_env from service_environment')).toEqual([{ app_env: 'test' }]);
    expect(await presentTables(db)).toEqual(TABLES);
  });

  it('also migrate once when they start at the same moment without help', async () => {
    const db = await freshDatabase();
    const runners = await Promise.all(Array.from({ length: 4 }, () => migrator(db)));
    const results = await Promise.all(runners.map((m) => m.up()));
    expect(results.flat().map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    expect(await db.query('select count(*)::int as n from schema_migrations')).toEqual([{ n: migrations.length }]);
  });
});

describe('migrate CLI (dist/src/cli/migrate.js)', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  const migrate = (db: TestDatabase, args: string[], logLevel = 'silent') =>
    runNode('dist/src/cli/migrate.js', args, childEnv({ APP_ENV: 'test', LOG_LEVEL: logLevel, DATABASE_URL: db.url }));

  it('runs status, up, status, down, status against DATABASE_URL', async () => {
    const db = await freshDatabase();
    const names = migrations.map((m) => `${m.version}_${m.name}`);

    const before = await migrate(db, ['status']);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual({ applied: [], pending: names, unknown: [], modified: [] });

    const up = await migrate(db, ['up'], 'info');
    expect(up.code).toBe(0);
    expect(jsonLines(up.stdout).find((l) => l.msg === 'migrations applied')).toMatchObject({ applied: names });
    expect(await presentTables(db)).toEqual(TABLES);
    expect(JSON.parse((await migrate(db, ['status'])).stdout)).toEqual({ applied: names, pending: [], unknown: [], modified: [] });

    const again = await migrate(db, ['up'], 'info');
    expect(jsonLines(again.stdout).find((l) => l.msg === 'no pending migrations')).toMatchObject({ applied: [] });

    const down = await migrate(db, ['down', String(migrations.length)], 'info');
    expect(down.code).toBe(0);
    expect(jsonLines(down.stdout).find((l) => l.msg === 'migrations reverted')).toMatchObject({ reverted: [...names].reverse() });
    expect(await presentTables(db)).toEqual([]);
    expect(JSON.parse((await migrate(db, ['status'])).stdout)).toEqual({ applied: [], pending: names, unknown: [], modified: [] });
  });

  it('reports edited and unknown migrations in status and refuses to migrate over them', async () => {
    const db = await freshDatabase();
    expect((await migrate(db, ['up'])).code).toBe(0);
    await db.query(`update schema_migrations set checksum = 'edited' where version = 1`);
    await db.query(`insert into schema_migrations (version, name, checksum) values (999, 'future', 'x')`);
    const status = JSON.parse((await migrate(db, ['status'])).stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ unknown: [999], modified: [1] });
    const up = await migrate(db, ['up'], 'info');
    expect(up.code).toBe(1);
    expect(jsonLines(up.stdout).find((l) => l.level === 'fatal')).toBeDefined();
  });

  it('exits 1 on an unknown command or bad step count', async () => {
    const db = await freshDatabase();
    const unknown = await migrate(db, ['sideways'], 'info');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('unknown migrate command');
    const badSteps = await migrate(db, ['down', '-1'], 'info');
    expect(badSteps.code).toBe(1);
    expect(badSteps.stdout).toContain('positive number of steps');
  });
});
