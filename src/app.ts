import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { DatabasePool } from 'slonik';
import type { Config } from './config/config';
import { createDatabaseGateway } from './db/DatabaseGateway';
import { createDatabasePool } from './db/createDatabasePool';
import { loadMigrations } from './db/migrations';
import { createPoolInstrumentation } from './db/poolInstrumentation';
import { prepareDatabase } from './db/prepareDatabase';
import { PageTokenCodec } from './domain/PageTokenCodec';
import { CoachingServiceService, type CoachingServiceServer } from './generated/coaching/v1/coaching_service';
import { createGrpcServer, type GrpcServer } from './grpc/createGrpcServer';
import { createProfileHandlers } from './grpc/handlers/profileHandlers';
import { createUnaryWrapper } from './grpc/wrapUnary';
import { createHealthModule, type HealthModule } from './health/createHealthModule';
import type { RequestContext } from './log/RequestContext';
import { SecretRegistry } from './log/SecretRegistry';
import { createServiceMetrics } from './metrics/createServiceMetrics';
import { startMetricsServer } from './metrics/startMetricsServer';
import { DESCRIPTOR_SET, MIGRATIONS_DIR } from './paths';
import { createProfileService } from './services/profileService';

export const COACHING_SERVICE_NAME = 'coaching.v1.CoachingService';

/** A running service: its bound port, its parts for tests and operators, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly pool: DatabasePool;
  readonly grpc: GrpcServer;
  readonly health: HealthModule;
  /** Port of the /metrics endpoint; undefined when METRICS_ENABLED=false. */
  readonly metricsPort: number | undefined;
  /** Readiness off, stop accepting, finish in-flight calls (bounded), close the pool. */
  stop(): Promise<void>;
}

/**
 * Builds the object graph from the configuration and starts serving. Called by
 * the composition root (main.ts) and by the tests, so both run the same wiring.
 * Throws StartupError (from prepareDatabase) before anything listens.
 */
export async function startService(
  config: Config,
  deps: { logger: Logger; secrets?: SecretRegistry; requestContext?: RequestContext },
): Promise<RunningService> {
  const { logger } = deps;
  await prepareDatabase(config, { migrate: config.db.migrateOnStart, migrationsDir: MIGRATIONS_DIR });
  const metrics = createServiceMetrics(new Registry());
  const poolInstrumentation = createPoolInstrumentation(metrics.poolObserver);
  const pool = await createDatabasePool(config.db, poolInstrumentation.poolOptions);
  poolInstrumentation.attach(pool);
  metrics.trackPool(poolInstrumentation.snapshot);
  const db = createDatabaseGateway({ pools: { current: () => pool }, logger: logger.child({ module: 'db' }), observe: metrics.observeQuery });
  const profiles = createProfileHandlers(createProfileService({ db, pageTokens: new PageTokenCodec(config.pageTokenSecret) }));

  const wrap = createUnaryWrapper({
    logger: logger.child({ module: 'rpc' }),
    observe: metrics.rpcObserver(COACHING_SERVICE_NAME),
    requestContext: deps.requestContext,
  });
  const implementation: CoachingServiceServer = {
    createProfile: wrap('CreateProfile', profiles.createProfile),
    getProfile: wrap('GetProfile', profiles.getProfile),
    listProfiles: wrap('ListProfiles', profiles.listProfiles),
    updateProfile: wrap('UpdateProfile', profiles.updateProfile),
    deleteProfile: wrap('DeleteProfile', profiles.deleteProfile),
  };
  const health = createHealthModule({
    config,
    logger,
    pool: () => pool,
    poolSnapshot: poolInstrumentation.snapshot,
    expectedSchemaVersion: loadMigrations(MIGRATIONS_DIR).length,
    metrics,
    secrets: deps.secrets ?? new SecretRegistry(),
    requestContext: deps.requestContext,
    dependentServices: [COACHING_SERVICE_NAME],
  });
  const grpc = createGrpcServer({
    services: [{ name: COACHING_SERVICE_NAME, definition: CoachingServiceService, implementation }, health.service],
    descriptorSetPath: DESCRIPTOR_SET,
  });
  const port = await grpc.listen(config.grpc.host, config.grpc.port);
  const metricsServer = await startMetricsServer(config.metrics, metrics.registry, logger);
  // Publishes liveness, readiness, "" and each service's status after the first probes.
  await health.start(grpc.status);
  logger.info(
    {
      environment: config.appEnv,
      grpc: `${config.grpc.host}:${port}`,
      database: {
        host: config.db.host,
        port: config.db.port,
        name: config.db.name,
        schema: config.db.schema,
        tls: config.db.sslMode,
        embedded: config.db.embedded,
      },
      pool: { max: config.db.maxConnections, statementTimeoutMs: config.db.statementTimeoutMs },
    },
    'coaching-service serving',
  );

  return {
    port,
    pool,
    grpc,
    health,
    metricsPort: metricsServer?.port,
    async stop() {
      health.drain();
      grpc.status.set('', 'NOT_SERVING');
      grpc.status.set(COACHING_SERVICE_NAME, 'NOT_SERVING');
      const how = await grpc.shutdown(config.shutdownTimeoutMs);
      health.stop();
      await metricsServer?.close();
      await pool.end();
      logger.info({ shutdown: how }, 'coaching-service stopped');
    },
  };
}
