import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { ClientConfig } from 'pg';
import { stringifyDsn } from 'slonik';
import { readPassword, type DatabaseConfig } from '../config/config';

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
 * DB_SCHEMA as PostgreSQL reads it in search_path: double-quoted, so that a
 * mixed-case name ("CoachingData") is not folded to lower case, as the
 * migrations (which quote it too) would otherwise disagree with every query.
 */
export function quotedSchema(schema: string): string {
  return `"${schema.replace(/"/g, '""')}"`;
}

/**
 * Startup options of every connection: the search_path (DB_SCHEMA), and UTC
 * with ISO dates, so that timestamptz text has one form the parser reads
 * exactly (no local-mean-time offsets such as +00:53:28 for old dates).
 */
function startupOptions(db: DatabaseConfig): string {
  // The options string is split on whitespace (backslash escapes); DB_SCHEMA holds none (config checks it is an identifier).
  return `-c search_path=${quotedSchema(db.schema)} -c TimeZone=UTC -c DateStyle=ISO,MDY`;
}

/** Settings for a single `pg.Client` (migrations, startup checks). */
export function pgClientConfig(db: DatabaseConfig): ClientConfig {
  const ssl = tlsOptions(db);
  return {
    host: db.host,
    port: db.port,
    database: db.name,
    user: db.user,
    password: readPassword(db.password),
    ssl: ssl ?? false,
    application_name: 'coaching-service',
    options: startupOptions(db),
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
    options: startupOptions(db),
  });
}
