import { Client } from 'pg';
import { loadMigrations } from '../../src/db/migrations';
import { Migrator } from '../../src/db/Migrator';
import { MIGRATIONS_DIR } from '../../src/paths';
import { startEmbeddedTestPostgres, type TestPostgres } from './postgresServer';
import { missingToolLines } from './systemTools';

declare global {
  var __testPostgres: TestPostgres | undefined;
}

/**
 * Starts the suite's PostgreSQL (embedded, or TEST_DATABASE_URL's server) and
 * builds a migrated template database once; each test file clones it.
 */
export default async function globalSetup(): Promise<void> {
  // Which system tools are missing, checked once for the whole run (globalTeardown reports them).
  missingToolLines();
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl === undefined || adminUrl === '') {
    const server = await startEmbeddedTestPostgres();
    globalThis.__testPostgres = server;
    adminUrl = server.adminUrl;
  }
  const template = `coaching_tpl_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await admin.end();

  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  await new Migrator(client, 'public', 'test', loadMigrations(MIGRATIONS_DIR)).up();
  await client.end();

  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = template;
}
