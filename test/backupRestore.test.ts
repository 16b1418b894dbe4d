/**
 * The backup and restore procedures of docs/runbook.md, run for real on
 * PostgreSQL 15: a logical dump (pg_dump -Fc, pg_restore into a fresh server)
 * and a physical base backup (pg_basebackup, started as a new server). Each
 * restored copy must hold exactly the data of the moment of the backup (row
 * count and content hash per table) and pass the service's own `check`.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { coachingApi } from './support/grpcClient';
import { childEnv, ensureBuilt, jsonLines, runNode } from './support/processes';
import { existsSync, writeFileSync } from 'node:fs';
import { baseBackupNode, startFromBaseBackup, startPrimary, type PgNode } from './support/replication';
import { mustRun, PG15_BIN, serverFolder } from './support/serverProcesses';
import { waitFor } from './support/waitFor';
import { serviceEnv } from './support/testDatabase';
import { startTestService } from './support/testService';
import { at, world } from './support/world';
import { describeWithTools } from './support/systemTools';

const DATABASE = 'coaching';
const started: PgNode[] = [];
let source: PgNode;
/** Where the source archives its WAL (archive_command), for point-in-time recovery. */
let archive: string;

/** Row count and an md5 of every row (in a stable order) of each table of the service's schema. */
async function fingerprint(node: PgNode): Promise<Record<string, { rows: number; md5: string }>> {
  const tables = await node.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    [],
    DATABASE,
  );
  const result: Record<string, { rows: number; md5: string }> = {};
  for (const { name } of tables) {
    const [row] = await node.query<{ rows: number; md5: string }>(
      `select count(*)::int as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5 from public."${name}" t`,
      [],
      DATABASE,
    );
    result[name] = row!;
  }
  return result;
}

/** `check` (dist/src/cli/check.js), as a release step would run it, against `node`. */
async function runCheck(node: PgNode) {
  const run = await runNode('dist/src/cli/check.js', [], childEnv({ APP_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: node.url(DATABASE) }), 60_000);
  return { code: run.code, messages: jsonLines(run.stdout).map((line) => line.msg), output: `${run.stdout}${run.stderr}` };
}

beforeAll(async () => {
  ensureBuilt();
  archive = serverFolder('wal-archive');
  source = await startPrimary('backup-source', {
    archive_mode: 'on',
    archive_command: `'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
  });
  started.push(source);
  await source.query(`create database ${DATABASE}`);
  // The real service migrates the database and writes a small world through its API.
  const svc = await startTestService(loadConfig({ env: serviceEnv(source.url(DATABASE)) }));
  try {
    const api = coachingApi(svc.client);
    const w = world(api);
    for (let i = 0; i < 3; i++) {
      const { enrollment, book } = await w.enrolled(2);
      const session = await book(at(10 + i));
      await api.ok('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: `done ${i}` });
      await book(at(20 + i));
      expect(enrollment.id).toBeTruthy();
    }
  } finally {
    await svc.stop();
  }
}, 180_000);

afterAll(async () => {
  for (const node of started) {
    await node.stop('immediate').catch(() => undefined);
  }
}, 60_000);

describeWithTools(['postgresql-15'], 'backup and restore (PostgreSQL 15)', () => {
  it('logical: pg_dump -Fc, pg_restore into a fresh server, same data, check passes', async () => {
    const dump = join(source.home, `${DATABASE}.dump`);
    await mustRun(join(PG15_BIN, 'pg_dump'), ['-Fc', '-d', source.url(DATABASE), '-f', dump], { timeoutMs: 120_000 });
    const atDump = await fingerprint(source);
    // Written after the dump: must not be in the restored copy.
    await source.query(
      `insert into profiles (id, role, email, display_name, timezone) values (gen_random_uuid(), 'COACH', 'late@example.com', 'Late', 'UTC')`,
      [],
      DATABASE,
    );
    expect((await fingerprint(source)).profiles!.rows).toBe(atDump.profiles!.rows + 1);

    const target = await startPrimary('restore-target');
    started.push(target);
    await mustRun(join(PG15_BIN, 'pg_restore'), ['--create', '--exit-on-error', '-d', target.url('postgres'), dump], { timeoutMs: 120_000 });

    expect(atDump.profiles!.rows).toBeGreaterThanOrEqual(6);
    expect(atDump.sessions!.rows).toBe(6);
    expect(atDump.idempotency_keys!.rows).toBe(3);
    expect(await fingerprint(target)).toEqual(atDump);
    const check = await runCheck(target);
    expect({ code: check.code, output: check.output }).toEqual({ code: 0, output: expect.stringContaining('database check passed') });
  });

  it('physical: pg_basebackup, started as a new server, same data, check passes', async () => {
    const atBackup = await fingerprint(source);
    const copy = await startFromBaseBackup(source, 'basebackup-copy');
    started.push(copy);
    await source.query(`delete from idempotency_keys`, [], DATABASE);

    expect(await copy.inRecovery()).toBe(false);
    expect(await fingerprint(copy)).toEqual(atBackup);
    expect((await fingerprint(source)).idempotency_keys!.rows).toBe(0);
    const check = await runCheck(copy);
    expect({ code: check.code, output: check.output }).toEqual({ code: 0, output: expect.stringContaining('database check passed') });
  });

  it('point in time: a base backup plus archived WAL, recovered to a moment between two writes', async () => {
    const copy = await baseBackupNode(source, 'pitr-copy');
    started.push(copy);
    const insert = (email: string) =>
      source.query(`insert into profiles (id, role, email, display_name, timezone) values (gen_random_uuid(), 'COACH', $1, 'PITR', 'UTC')`, [email], DATABASE);
    await insert('kept@example.com');
    const [{ target }] = (await source.query<{ target: string }>('select clock_timestamp()::text as target')) as [{ target: string }];
    const atTarget = await fingerprint(source);
    await insert('after-target@example.com');
    // Close the WAL segment holding both writes, so that the archiver copies it.
    const [{ segment }] = (await source.query<{ segment: string }>('select pg_walfile_name(pg_switch_wal()) as segment')) as [{ segment: string }];
    await waitFor(`WAL segment ${segment} in the archive`, () => existsSync(join(archive, segment)), { timeoutMs: 30_000 });

    copy.configure({
      restore_command: `'cp ${archive}/%f %p'`,
      recovery_target_time: `'${target}'`,
      recovery_target_action: "'promote'",
    });
    writeFileSync(join(copy.dataDir, 'recovery.signal'), '');
    await copy.start();
    await waitFor('the recovered copy to be promoted', async () => !(await copy.inRecovery()), { timeoutMs: 60_000 });
    const emails = await copy.query<{ email: string }>(`select email from profiles where display_name = 'PITR' order by email`, [], DATABASE);
    expect(emails).toEqual([{ email: 'kept@example.com' }]);
    expect(await fingerprint(copy)).toEqual(atTarget);
    const check = await runCheck(copy);
    expect({ code: check.code, output: check.output }).toEqual({ code: 0, output: expect.stringContaining('database check passed') });
  });

  it('check refuses a restore that lacks the migrations (a dump of the wrong database)', async () => {
    const empty = started.find((n) => n.name === 'restore-target')!;
    await empty.query('create database wrong_restore');
    const run = await runNode('dist/src/cli/check.js', [], childEnv({ APP_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: empty.url('wrong_restore') }), 60_000);
    expect(run.code).toBe(1);
    expect(`${run.stdout}`).toMatch(/pending migration/);
  });
});
