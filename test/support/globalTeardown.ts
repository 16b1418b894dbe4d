import { Client } from 'pg';
import { killLeftoverServers } from './serverProcesses';
import { missingToolLines } from './systemTools';
import { runDatabasePrefix } from './testDatabase';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.TEST_PG_ADMIN_URL;
  const template = process.env.TEST_PG_TEMPLATE;
  if (adminUrl !== undefined && template !== undefined && globalThis.__testPostgres === undefined) {
    // A shared server (TEST_DATABASE_URL): leave it as we found it.
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    // This run's databases only (starts_with: in LIKE, '_' would match any character and other runs' databases).
    const leftovers = await admin.query<{ datname: string }>(`select datname from pg_database where starts_with(datname, $1) or datname = $2`, [
      runDatabasePrefix(),
      template,
    ]);
    for (const { datname } of leftovers.rows) await admin.query(`drop database if exists "${datname}" with (force)`);
    await admin.end();
  }
  await globalThis.__testPostgres?.stop();
  // PostgreSQL 15 and PgBouncer processes of replication, backup and pooler tests: none may outlive the run.
  const leftovers = await killLeftoverServers();
  if (leftovers > 0) console.warn(`globalTeardown stopped ${leftovers} leftover test server(s)`);
  // After Jest's summary, where it is seen: one line per tool whose tests were skipped (or failed, in CI).
  for (const line of missingToolLines()) process.stderr.write(`${line}\n`);
}
