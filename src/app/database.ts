import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { createDatabaseGateway, type DatabaseGateway, type DatabaseGatewayEvents } from '../db/DatabaseGateway';
import { createDatabasePool } from '../db/createDatabasePool';
import { createPoolInstrumentation, type PoolInstrumentation } from '../db/poolInstrumentation';
import { PoolManager } from '../db/PoolManager';
import { explainConnectFailure, prepareDatabase } from '../db/prepareDatabase';
import { MIGRATIONS_DIR } from '../paths';
import { createDatabasePolicy, type DatabasePolicy } from '../resilience/createDatabasePolicy';
import type { ServiceTracing } from '../tracing/startTracing';
import type { Metrics, StartupScope } from './ServiceDeps';
import type { DatabaseEndpoints } from './startDatabaseEndpoints';

/** The database dependency: pools (swapped by reloads), their instrumentation, the policy and the gateway in front. */
export interface Database {
  readonly pools: PoolManager;
  readonly instrumentation: PoolInstrumentation;
  readonly policy: DatabasePolicy;
  readonly gateway: DatabaseGateway & DatabaseGatewayEvents;
  /** The startup checks (environment guard, schema, migrations) against a configuration. */
  check(target: Config): Promise<void>;
  /** Checks `target` and opens the first pool, unless one is open already (a reload during a degraded start). */
  connect(target: Config): Promise<void>;
}

/** Builds the database parts; nothing connects yet (see `connect`). With tracing, attempts, transactions, statements and pool waits are spans. */
export function createDatabase(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  scope: StartupScope,
  endpoints: DatabaseEndpoints,
  tracing?: ServiceTracing['database'],
): Database {
  const dbLogger = logger.child({ module: 'db' });
  // Follows the pool in service, also across reloads.
  const instrumentation = createPoolInstrumentation(metrics.poolObserver);
  metrics.trackPool(instrumentation.snapshot);
  const pools = new PoolManager({
    createPool: async (db) =>
      createDatabasePool(db, {
        ...instrumentation.poolOptions,
        interceptors: [...instrumentation.poolOptions.interceptors, ...(tracing === undefined ? [] : [tracing.interceptor])],
      }),
    onSwap: (pool) => instrumentation.attach(pool),
    // With several DB_HOST endpoints, the pool connects to the primary found among them.
    target: (db) => endpoints.aim(db),
    logger: dbLogger,
  });
  scope.defer(() => pools.close());
  const policy = createDatabasePolicy(config.resilience);
  const gateway = createDatabaseGateway({
    pools,
    policy,
    logger: dbLogger,
    statementTimeoutMs: config.db.statementTimeoutMs,
    observe: metrics.observeQuery,
    tracer: tracing?.work,
  });
  const check = (target: Config): Promise<void> =>
    prepareDatabase(endpoints.requirePrimary(target), { migrate: target.db.migrateOnStart, migrationsDir: MIGRATIONS_DIR });
  return {
    pools,
    instrumentation,
    policy,
    gateway,
    check,
    async connect(target) {
      if (pools.peek() !== undefined) return;
      await check(target);
      try {
        await pools.open(target.db);
      } catch (error) {
        throw explainConnectFailure(target, error);
      }
    },
  };
}
