import { Client } from 'pg';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { DatabaseConfig } from '../../config/config';
import { DATABASE_DEPENDENCY_NAME } from '../../config/healthDependencies';
import { pgClientConfig } from '../../db/connectionSettings';
import { databaseFailureCode } from '../../db/failureCode';
import { translateDriverError } from '../../db/driverErrors';
import { UnavailableError } from '../../domain/errors';
import type { PoolSnapshot } from '../../db/poolInstrumentation';
import type { DependencyCheck, ProbeOutcome } from '../types';
import { abortable } from './abortable';

const SchemaVersion = z.object({ version: z.number() });

export interface DatabaseCheckDeps {
  /** The database settings in force: a reload that moves the service to another server or password moves the probe too. */
  readonly db: () => DatabaseConfig;
  /** The pool the service uses (probing it shows pool trouble too). */
  readonly pool: () => DatabasePool;
  readonly poolSnapshot: () => PoolSnapshot | undefined;
  /** Highest migration version this build needs: a lower one is "schema not current". */
  readonly expectedSchemaVersion: number;
  /** The breaker in front of the database, when there is one: reported as circuit_state. */
  readonly circuitState?: () => string;
}

function failed(error: unknown, message = 'Database connection failed'): ProbeOutcome {
  const code = databaseFailureCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  return { status: 'UNHEALTHY', message, errorCode: code, error: detail === '' ? code : detail };
}

/** Probes PostgreSQL through the pool, or a dedicated connection when the pool has none free: README "Design decisions", "The database probe never waits in the pool's queue". */
export function createDatabaseCheck(deps: DatabaseCheckDeps): DependencyCheck {
  // The server gives up a little before the prober does, so a slow ping comes
  // back as a statement timeout and frees its connection instead of lingering.
  const serverTimeoutMs = (): number => Math.max(100, Math.floor(deps.db().pingTimeoutMs * 0.8));
  let poolPing: Promise<number> | undefined;
  let directPing: Promise<void> | undefined;

  const pingThroughPool = (): Promise<number> => {
    const ping = deps.pool().transaction(async (tx) => {
      await tx.query(sql.unsafe`select set_config('statement_timeout', ${String(serverTimeoutMs())}, true)`);
      const row = await tx.one(
        sql.type(SchemaVersion)`select coalesce(max(version), 0)::int as version from ${sql.identifier([deps.db().schema, 'schema_migrations'])}`,
      );
      return row.version;
    });
    poolPing = ping;
    void ping
      .finally(() => {
        if (poolPing === ping) poolPing = undefined;
      })
      .catch(() => undefined);
    return ping;
  };

  const pingDirectly = (signal: AbortSignal): Promise<void> => {
    const db = deps.db();
    const timeoutMs = db.pingTimeoutMs;
    const client = new Client({ ...pgClientConfig(db, { statementTimeoutMs: timeoutMs }), connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', () => undefined);
    const ping = (async () => {
      try {
        await client.connect();
        await client.query('select 1');
      } finally {
        void client.end().catch(() => undefined);
      }
    })();
    directPing = ping;
    void ping
      .finally(() => {
        if (directPing === ping) directPing = undefined;
      })
      .catch(() => undefined);
    return abortable(ping, signal);
  };

  /** The pool cannot hand out a connection without queueing, or its last ping is stuck: go around it. */
  const aroundPool = async (signal: AbortSignal, snapshot: PoolSnapshot | undefined): Promise<ProbeOutcome> => {
    if (directPing !== undefined) {
      return { status: 'UNHEALTHY', message: 'Database connection failed', errorCode: 'TIMEOUT', error: 'previous probe connection still unanswered' };
    }
    const full = snapshot?.full === true;
    try {
      await pingDirectly(signal);
    } catch (error) {
      return failed(error);
    }
    return full
      ? {
          status: 'DEGRADED',
          message: 'Connection pool exhausted; database reachable',
          errorCode: 'POOL_EXHAUSTED',
          error: `all ${snapshot.max} pooled connections in use, ${snapshot.waiting} caller(s) queued`,
        }
      : { status: 'DEGRADED', message: 'Pooled connection stuck; database reachable', errorCode: 'POOL_STALLED', error: 'previous pool ping still unanswered' };
  };

  return {
    name: DATABASE_DEPENDENCY_NAME,
    type: 'DATABASE',
    critical: true,
    get endpoint() {
      const db = deps.db();
      return { hostname: db.host, port: db.port, protocol: 'postgresql', databaseName: db.name, schemaName: db.schema };
    },
    get intervalMs() {
      return deps.db().healthCheckIntervalMs;
    },
    get timeoutMs() {
      return deps.db().pingTimeoutMs;
    },
    async probe(signal) {
      const snapshot = deps.poolSnapshot();
      const full = snapshot?.full === true;
      if (full || poolPing !== undefined) return aroundPool(signal, snapshot);
      let version: number;
      try {
        version = await abortable(pingThroughPool(), signal);
      } catch (error) {
        // A pooled connection that died (backend terminated, reset) says little about the database: ask it directly.
        const lost = translateDriverError(error);
        if (!(lost instanceof UnavailableError && lost.retry === 'ambiguous')) return failed(error);
        try {
          await pingDirectly(signal);
        } catch (directError) {
          return failed(directError);
        }
        return { status: 'DEGRADED', message: 'Pooled connection lost; database reachable', errorCode: 'CONNECTION_LOST', error: lost.message };
      }
      if (version < deps.expectedSchemaVersion) {
        return {
          status: 'UNHEALTHY',
          message: 'Database schema not current',
          errorCode: 'SCHEMA_NOT_CURRENT',
          error: `database is at migration ${version}, this build needs ${deps.expectedSchemaVersion}`,
        };
      }
      return { status: 'HEALTHY', message: 'Database connection healthy' };
    },
    ...(deps.circuitState !== undefined && { circuitState: deps.circuitState }),
    poolInfo() {
      const s = deps.poolSnapshot();
      return s && { maxConnections: s.max, activeConnections: s.active, idleConnections: s.idle, waitCount: s.waitCount };
    },
  };
}
