import { createPgDriverFactory } from '@slonik/pg-driver';
import { createPool, type DatabasePool, type DriverFactory, type Interceptor } from 'slonik';
import { readPassword, type DatabaseConfig } from '../config/config';
import { passwordlessDsn, tlsOptions } from './connectionSettings';
import { createResultParserInterceptor } from './resultParserInterceptor';
import { preparedStatementDriver } from './preparedStatements';
import { markBoundedPool, sessionTimeoutDriver } from './sessionStatementTimeout';
import { typeParsers } from './timestamptzParser';

/**
 * A slonik pool sized and timed by the configuration. slonik connects at
 * once, so this rejects with the driver error when the database cannot be
 * reached. The password is read when the pool is created; rotation swaps in
 * a new pool (PoolManager.reload).
 *
 * DB_MAX_IDLE_CONNECTIONS has no slonik equivalent (it cannot cap idle
 * connections); idle connections are closed after DB_CONNECTION_MAX_IDLE_TIME.
 */
export async function createDatabasePool(
  db: DatabaseConfig,
  extra: { interceptors?: readonly Interceptor[]; driverFactory?: DriverFactory } = {},
): Promise<DatabasePool> {
  const ssl = tlsOptions(db);
  // slonik sends these as startup parameters, which a transaction pooler refuses: there the
  // role's defaults set them (checked at startup, sessionDefaults.ts).
  const serverTimeoutMs = db.poolMode === 'session' ? db.statementTimeoutMs : 'DISABLE_TIMEOUT';
  // Session mode: each connection keeps a session statement_timeout under the caller's deadline
  // (sessionStatementTimeout.ts). Behind a transaction pooler that would leak to other clients.
  // Named statements (DB_PREPARED_STATEMENTS): planned once per connection (preparedStatements.ts).
  const pgDriver = extra.driverFactory ?? createPgDriverFactory();
  const baseDriver = db.preparedStatements ? preparedStatementDriver(pgDriver) : pgDriver;
  const driverFactory = db.poolMode === 'session' ? sessionTimeoutDriver(baseDriver, db.statementTimeoutMs) : baseDriver;
  const pool = await createPool(passwordlessDsn(db), {
    maxPoolSize: db.maxConnections,
    idleTimeout: db.connectionMaxIdleTimeMs,
    maximumConnectionAge: db.connectionMaxLifetimeMs,
    connectionTimeout: db.connectTimeoutMs,
    statementTimeout: serverTimeoutMs,
    idleInTransactionSessionTimeout: serverTimeoutMs,
    // Retries are decided by the service's own policies, not multiplied here.
    connectionRetryLimit: 0,
    queryRetryLimit: 0,
    // Serialization failures and deadlocks (class 40) are retried once, by the policy, not also by slonik.
    transactionRetryLimit: 0,
    // slonik's default reset runs DISCARD ALL on every release: one more round
    // trip per call. The only session state is the statement_timeout that
    // sessionStatementTimeout.ts tracks per connection (search_path is a startup
    // option or the role's default), so there is nothing to reset.
    resetConnection: () => Promise.resolve(),
    // Read once per pool: a changed secret reaches service through a validated reload,
    // so a wrong new password can never break the pool that is serving.
    password: readPassword(db.password) ?? '',
    interceptors: [createResultParserInterceptor(), ...(extra.interceptors ?? [])],
    // timestamptz read exactly for every year (slonik's Date.parse turns 0050 into 1950).
    typeParsers: typeParsers(),
    ...(ssl !== undefined && { ssl }),
    driverFactory,
  });
  if (db.poolMode === 'session') markBoundedPool(pool);
  // slonik also emits every query error on the pool; without a listener that
  // emit throws (and in Jest's ESM realm replaces the error). The rejection
  // itself reaches the caller, who handles it.
  pool.on('error', () => undefined);
  return pool;
}
