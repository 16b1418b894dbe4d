import { Client } from 'pg';
import type { Config } from '../config/config';
import type { DatabaseConfig } from '../config/config';
import { directConnection, pgClientConfig } from './connectionSettings';
import { driverCode, firstFailure } from './driverFailures';
import { loadMigrations } from './migrations';
import { DatabaseStateError, Migrator } from './Migrator';
import { checkSessionDefaults } from './sessionDefaults';

/** Why the database cannot be used; `unreachable` may heal by itself, the others need an operator. */
export type StartupFailureKind =
  | 'unreachable'
  | 'credentials'
  | 'database'
  | 'tls'
  | 'schema'
  | 'migrations'
  | 'environment'
  /** A connection pooler (or the server) refused the connection's protocol, e.g. a startup parameter PgBouncer does not forward. */
  | 'pooler'
  /** DB_POOL_MODE=transaction, but the role's defaults do not provide search_path and the timeouts. */
  | 'session-defaults'
  /** A gRPC or admin listener's TLS or token files, or its port. */
  | 'listener';

/** A startup refusal with an actionable, secret-free message. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    readonly kind: StartupFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The startup view of the driver failure table (driverFailures.ts): a secret-free, actionable explanation of a failed connection attempt to `db` (by default the pool's endpoint). */
export function explainConnectFailure(config: Config, error: unknown, db: DatabaseConfig = config.db): StartupError {
  if (error instanceof StartupError) return error;
  const { host, port, name, user } = db;
  const where = `${host}:${port}/${name}`;
  const failure = firstFailure(error, 'startup');
  const code = driverCode(error);
  switch (failure?.startup) {
    case 'pooler': {
      // PgBouncer answers a startup parameter it does not forward with a protocol violation. Its text
      // ("unsupported startup parameter: options") names the parameter; it holds no secret.
      const said = (error instanceof Error ? error.message : String(error)).toWellFormed().slice(0, 200);
      const hint =
        db.poolMode === 'session'
          ? 'behind PgBouncer in transaction pooling set DB_POOL_MODE=transaction (no startup parameters; see the runbook)'
          : 'check the pooler configuration (pool_mode, ignore_startup_parameters)';
      return new StartupError(
        'pooler',
        `PostgreSQL or a connection pooler at ${host}:${port} refused the connection as a protocol violation (08P01: ${said}): ${hint}`,
        {
          cause: error,
        },
      );
    }
    case 'credentials':
      return new StartupError(
        'credentials',
        `PostgreSQL at ${where} rejected user "${user}" (authentication failed): check DB_USER and DB_PASSWORD / DB_PASSWORD_FILE`,
        { cause: error },
      );
    case 'database':
      return new StartupError('database', `database "${name}" does not exist on ${host}:${port}: create it or fix DB_NAME`, { cause: error });
    case 'tls':
      return new StartupError(
        'tls',
        `TLS verification of PostgreSQL at ${host}:${port} failed (${code}): check DB_SSL_ROOT_CERT and that DB_HOST matches the server certificate`,
        { cause: error },
      );
    case undefined:
      return new StartupError(
        'unreachable',
        `cannot reach PostgreSQL at ${host}:${port} (${code ?? 'connection failed'}): is it running and are DB_HOST/DB_PORT and network access right?`,
        { cause: error },
      );
  }
}

/**
 * The checks a service runs before serving (and `npm run check` runs alone):
 * connect with the configured credentials, check the schema, the environment
 * guard and that applied migrations are exactly the expected ones. With
 * `migrate`, pending migrations are applied first. Throws {@link StartupError}.
 */
export async function prepareDatabase(config: Config, options: { migrate: boolean; migrationsDir: string }): Promise<void> {
  // Migrations and checks use the direct connection (DB_MIGRATION_URL) when there is one: the advisory lock needs a session.
  const direct = directConnection(config.db);
  const client = await connectClient(config, direct);
  try {
    const { schema, name } = config.db;
    const access = await client.query<{ present: boolean; usable: boolean }>(
      `select exists(select 1 from pg_namespace where nspname = $1) as present,
              coalesce((select has_schema_privilege(current_user, $1, 'USAGE') where exists(select 1 from pg_namespace where nspname = $1)), false) as usable`,
      [schema],
    );
    const row = access.rows[0]!;
    if (!row.present)
      throw new StartupError(
        'schema',
        `schema "${schema}" does not exist in database "${name}": create it (npm run migrate -- up creates it) or fix DB_SCHEMA`,
      );
    if (!row.usable)
      throw new StartupError('schema', `user "${config.db.user}" has no USAGE privilege on schema "${schema}": grant it or fix DB_SCHEMA/DB_USER`);

    const migrator = new Migrator(client, schema, config.appEnv, loadMigrations(options.migrationsDir));
    try {
      if (options.migrate) await migrator.up();
      await migrator.assertEnvironment();
      await migrator.assertCurrent();
    } catch (error) {
      if (error instanceof DatabaseStateError) {
        throw new StartupError(error.kind, error.message, { cause: error });
      }
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  if (config.db.poolMode === 'transaction') await assertSessionDefaults(config);
}

async function connectClient(config: Config, db: DatabaseConfig): Promise<Client> {
  const client = new Client(pgClientConfig(db));
  // An 'error' event after connect (server gone) must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw explainConnectFailure(config, error, db);
  }
  return client;
}

/** Through the pooler, as the pool will connect: the role's defaults must stand in for the startup parameters. */
async function assertSessionDefaults(config: Config): Promise<void> {
  const client = await connectClient(config, config.db);
  try {
    const { problems, fix } = await checkSessionDefaults(client, config.db);
    if (problems.length > 0) {
      throw new StartupError(
        'session-defaults',
        `DB_POOL_MODE=transaction sends no startup parameters, so the role's defaults must provide them, but ${problems.join('; ')}: run ${fix.join('; ')} (then let the pooler reconnect its server connections)`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
