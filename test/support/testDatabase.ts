import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig, type Config } from '../../src/config/config';

/** A database of this test file's own, cloned from the migrated template. */
export interface TestDatabase {
  readonly name: string;
  /** URL with credentials (tests only). */
  readonly url: string;
  /** Configuration of a service pointed at this database. */
  config(overrides?: Record<string, string>): Config;
  /** A plain client for arranging and inspecting rows. */
  query<T extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.TEST_PG_ADMIN_URL;
  if (url === undefined) throw new Error('TEST_PG_ADMIN_URL is not set: run the tests through jest (globalSetup)');
  return url;
}

/** Runs one statement on a fresh connection to `url` (a server under test may have restarted since the last one). */
export async function queryUrl<T extends object = Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<T[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function adminQuery<T extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]> {
  return queryUrl<T>(adminUrl(), text, values);
}

/** Environment for a service configuration that points at `url`. */
export function serviceEnv(url: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    APP_ENV: 'test',
    DATABASE_URL: url,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: 'silent',
    DB_MAX_CONNECTIONS: '10',
    SHUTDOWN_TIMEOUT: '5',
    ENV_FILE: '/nonexistent/.env',
    ...overrides,
  };
}

/**
 * Prefix of this run's test databases: on a shared server (TEST_DATABASE_URL)
 * several runs may be under way, and each cleans up only its own.
 */
export function runDatabasePrefix(): string {
  return `coaching_t_${(process.env.TEST_PG_TEMPLATE ?? '').replace(/^coaching_tpl_/, '')}_`;
}

export async function createTestDatabase(options: { fromTemplate?: boolean } = {}): Promise<TestDatabase> {
  const template = process.env.TEST_PG_TEMPLATE;
  const name = `${runDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  await adminQuery(options.fromTemplate === false ? `create database ${name}` : `create database ${name} template ${template}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  client.on('error', () => undefined);
  return {
    name,
    url: url.toString(),
    config: (overrides = {}) => loadConfig({ env: serviceEnv(url.toString(), overrides) }),
    query: async <T extends object>(text: string, values?: unknown[]) => (await client.query<T>(text, values)).rows,
    async drop() {
      await client.end().catch(() => undefined);
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}
