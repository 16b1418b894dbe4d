import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { ClientConfig } from 'pg';
import { stringifyDsn } from 'slonik';
import { readPassword, type DatabaseConfig } from '../config/config';
import { startupOptionsOf } from './sessionDefaults';

/** TLS options for the configured DB_SSL_MODE (libpq semantics). */
export function tlsOptions(db: DatabaseConfig): TlsOptions | undefined {
  const ca = db.sslRootCert === undefined ? undefined : readFileSync(db.sslRootCert);
  // libpq sslcert/sslkey: the client certificate, for DB_AUTH=certificate (PostgreSQL "cert" authentication).
  const identity = db.sslCert === undefined || db.sslKey === undefined ? {} : { cert: readFileSync(db.sslCert), key: readFileSync(db.sslKey) };
  switch (db.sslMode) {
    case 'disable':
      return undefined;
    case 'require':
      // libpq "require" encrypts but does not verify the server (unless a root cert is given).
      return ca === undefined
        ? { ...identity, rejectUnauthorized: false }
        : { ...identity, ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-ca':
      return { ...identity, ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      // SNI takes host names only; for an IP the certificate is still checked against it.
      return { ...identity, ca, rejectUnauthorized: true, ...(isIP(db.host) === 0 && { servername: db.host }) };
  }
}

/**
 * The startup options of a connection (search_path = DB_SCHEMA). A transaction
 * pooler (PgBouncer 1.18) refuses them ("unsupported startup parameter"), so in
 * DB_POOL_MODE=transaction none is sent and the role's own defaults provide
 * the same settings (one list for both: sessionDefaults.ts).
 */
function startupOptions(db: DatabaseConfig): string | undefined {
  return db.poolMode === 'session' ? startupOptionsOf(db) : undefined;
}

/**
 * The settings of the direct connection (DB_MIGRATION_URL) for migrations and
 * startup checks: the pool's own when none is configured. It bypasses any
 * pooler, so it may carry startup parameters and hold session state.
 */
export function directConnection(db: DatabaseConfig): DatabaseConfig {
  return db.direct === undefined ? db : { ...db, ...db.direct, poolMode: 'session' };
}

/**
 * Settings for a single `pg.Client` (migrations, startup checks, probes).
 * `statementTimeoutMs` is a startup parameter, so it is sent only where the
 * connection may carry one (not through a transaction pooler).
 */
export function pgClientConfig(db: DatabaseConfig, extra: { statementTimeoutMs?: number } = {}): ClientConfig {
  const ssl = tlsOptions(db);
  const options = startupOptions(db);
  return {
    ...(options !== undefined && { options }),
    ...(extra.statementTimeoutMs !== undefined && db.poolMode === 'session' && { statement_timeout: extra.statementTimeoutMs }),
    host: db.host,
    port: db.port,
    database: db.name,
    user: db.user,
    password: readPassword(db.password),
    ssl: ssl ?? false,
    application_name: 'coaching-service',
    connectionTimeoutMillis: db.connectTimeoutMs,
  };
}

/** A DSN without the password: the pool gets it separately, so it never sits in a URL that could be logged. */
export function passwordlessDsn(db: DatabaseConfig): string {
  return stringifyDsn({
    host: db.host,
    port: db.port,
    databaseName: db.name,
    username: db.user,
    applicationName: 'coaching-service',
    ...(startupOptions(db) !== undefined && { options: startupOptions(db) }),
  });
}
