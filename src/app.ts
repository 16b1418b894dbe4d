import { unwatchFile, watchFile } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { secretValues, type Config } from './config/config';
import { startAdminListener, type AdminListener } from './admin/startAdminListener';
import { createDatabaseGateway, type DatabaseGateway } from './db/DatabaseGateway';
import { createDatabasePool } from './db/createDatabasePool';
import { loadMigrations } from './db/migrations';
import { createPoolInstrumentation } from './db/poolInstrumentation';
import { translateDriverError } from './db/driverErrors';
import { PoolManager, type ReloadOutcome } from './db/PoolManager';
import { createConfigReload } from './lifecycle/createConfigReload';
import { createListenerCredentials, reportCertificateLoads } from './grpc/tls/serverCredentials';
import { explainConnectFailure, prepareDatabase, StartupError } from './db/prepareDatabase';
import { PageTokenCodec } from './domain/PageTokenCodec';
import { CoachingServiceService, type CoachingServiceServer } from './generated/coaching/v1/coaching_service';
import { createGrpcServer, type GrpcServer } from './grpc/createGrpcServer';
import { createEnrollmentHandlers } from './grpc/handlers/enrollmentHandlers';
import { createProfileHandlers } from './grpc/handlers/profileHandlers';
import { createProgramHandlers } from './grpc/handlers/programHandlers';
import { createSessionHandlers } from './grpc/handlers/sessionHandlers';
import { ReadinessGate } from './grpc/ReadinessGate';
import { createUnaryWrapper } from './grpc/wrapUnary';
import { DATABASE_DEPENDENCY_NAME } from './config/healthDependencies';
import { createHealthModule, HEALTH_SERVICE_NAME, type HealthModule } from './health/createHealthModule';
import type { RequestContext } from './log/RequestContext';
import type { SecretRegistry } from './log/SecretRegistry';
import { createServiceMetrics } from './metrics/createServiceMetrics';
import { startMetricsServer } from './metrics/startMetricsServer';
import { DESCRIPTOR_SET, MIGRATIONS_DIR } from './paths';
import { createDatabasePolicy, type DatabasePolicy } from './resilience/createDatabasePolicy';
import { createEnrollmentService } from './services/enrollmentService';
import { createProfileService } from './services/profileService';
import { createProgramService } from './services/programService';
import { createSessionService } from './services/sessionService';
import { createOutboxChangeLog } from './events/createOutboxChangeLog';
import { createEventJobs, type EventJobs } from './events/startEventJobs';
import { createEventHandlers } from './grpc/handlers/eventHandlers';
import { createEventService } from './services/eventService';
import { sql } from 'slonik';

export const COACHING_SERVICE_NAME = 'coaching.v1.CoachingService';

/** A running service: its bound port, its parts for tests and operators, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly pools: PoolManager;
  readonly policy: DatabasePolicy;
  readonly db: DatabaseGateway;
  readonly grpc: GrpcServer;
  readonly readiness: ReadinessGate;
  readonly health: HealthModule;
  /** Port of the /metrics endpoint; undefined when METRICS_ENABLED=false. */
  readonly metricsPort: number | undefined;
  /** The admin listener (coaching.admin.v1.AdminService); undefined when ADMIN_GRPC_ENABLED=false. */
  readonly admin: AdminListener | undefined;
  readonly adminPort: number | undefined;
  /** Domain events: relay, dead letters, retention (src/events). */
  readonly events: EventJobs;
  /** The configuration in force (the start one, with the database settings of the latest applied reload). */
  configInForce(): Config;
  /**
   * Re-reads the configuration, runs the startup checks against the new
   * database target and swaps in a new pool; the old one keeps serving if
   * anything fails. Also re-reads the TLS certificates and the admin token.
   */
  reload(): Promise<ReloadOutcome>;
  /** Readiness off, drain delay, stop accepting, finish in-flight calls (bounded), close the pool. */
  stop(): Promise<void>;
}

export interface ServiceDeps {
  readonly logger: Logger;
  readonly secrets: SecretRegistry;
  /** Carries the correlation id of the request being served into every log line it causes. */
  readonly requestContext?: RequestContext;
  /** Fresh configuration for reloads (SIGHUP, password file change); defaults to the start configuration. */
  readonly reloadConfig?: () => Config;
  /** Called when a late database connection (after a degraded start) finds a problem only an operator can fix. */
  readonly onFatal?: (error: StartupError) => void;
}

const isUnreachable = (error: unknown): boolean => error instanceof StartupError && error.kind === 'unreachable';

/** Runs a listener's setup; a failure (unusable TLS or token files) is a StartupError an operator must fix. */
function listenerSetup<T>(what: string, setup: () => T): T {
  try {
    return setup();
  } catch (error) {
    throw new StartupError('listener', `${what}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Builds the object graph from the configuration and starts serving. Called by
 * the composition root (main.ts) and by the tests, so both run the same wiring.
 * Fails fast (StartupError, nothing listening) on problems an operator must fix;
 * an unreachable database only delays readiness unless DB_REQUIRE_ON_STARTUP.
 */
export async function startService(config: Config, deps: ServiceDeps): Promise<RunningService> {
  const { logger } = deps;
  const dbLogger = logger.child({ module: 'db' });
  for (const secret of secretValues(config)) deps.secrets.add(secret);
  const metrics = createServiceMetrics(new Registry());
  // Unusable certificate files stop the start before anything connects or listens.
  const publicTls = listenerSetup('gRPC TLS', () =>
    createListenerCredentials(config.grpc.tls, reportCertificateLoads('public', logger, metrics.certificateLoaded)),
  );
  // Follows the pool in service, also across reloads.
  const poolInstrumentation = createPoolInstrumentation(metrics.poolObserver);
  metrics.trackPool(poolInstrumentation.snapshot);
  const pools = new PoolManager({
    createPool: async (db) => createDatabasePool(db, poolInstrumentation.poolOptions),
    onSwap: (pool) => poolInstrumentation.attach(pool),
    logger: dbLogger,
  });
  // Started once the public listener is up; reloads re-read its token and certificate files.
  let admin: AdminListener | undefined = undefined;
  const check = (candidate: Config): Promise<void> => prepareDatabase(candidate, { migrate: candidate.db.migrateOnStart, migrationsDir: MIGRATIONS_DIR });
  const reloads = createConfigReload({
    initial: config,
    ...(deps.reloadConfig !== undefined && { loadNext: deps.reloadConfig }),
    pools,
    check,
    describeError: (candidate, error) =>
      error instanceof StartupError ? error.message : (translateDriverError(error)?.message ?? explainConnectFailure(candidate, error).message),
    secrets: deps.secrets,
    logger,
    applied: metrics.configInForce,
    counted: metrics.configReloaded,
    rereadFiles: () => {
      publicTls.reload();
      admin?.reload();
    },
  });
  const connect = async (): Promise<void> => {
    // A reload during a degraded start may have connected already (to the configuration now in force).
    if (pools.peek() !== undefined) return;
    const target = reloads.current();
    await check(target);
    try {
      await pools.open(target.db);
    } catch (error) {
      throw explainConnectFailure(target, error);
    }
  };

  let connected = true;
  try {
    await connect();
  } catch (error) {
    if (!isUnreachable(error) || config.resilience.requireOnStartup) {
      publicTls.close();
      throw error;
    }
    connected = false;
    logger.warn({ reason: (error as Error).message }, 'database unreachable at start: serving NOT_SERVING and reconnecting in the background');
  }

  // Filled in once the server exists: the policy reports breaker changes to readiness.
  const late: { readiness?: ReadinessGate; health?: HealthModule } = {};
  const policy = createDatabasePolicy(config.resilience, {
    breakerStateChanged: (state) => {
      dbLogger.warn({ circuit: state }, `database circuit breaker ${state}`);
      metrics.breakerState(DATABASE_DEPENDENCY_NAME, state);
      late.readiness?.set('database-circuit-closed', state !== 'open' && state !== 'isolated');
      if (state === 'open') {
        late.health?.suspectDatabase();
        void probeUntilClosed();
      }
    },
    retried: (reason, attempt, delayMs) => {
      metrics.retry(DATABASE_DEPENDENCY_NAME, reason);
      dbLogger.debug({ reason, attempt, delayMs }, 'retrying database work');
    },
    bulkheadRejected: (reason) => {
      metrics.bulkheadRejected(DATABASE_DEPENDENCY_NAME, reason);
      dbLogger.warn({ reason }, 'database bulkhead rejected work');
    },
  });
  const db = createDatabaseGateway({
    pools,
    policy,
    logger: dbLogger,
    statementTimeoutMs: config.db.statementTimeoutMs,
    observe: metrics.observeQuery,
    // A refused or lost connection on the request path: let the prober confirm it now.
    onUnavailable: () => late.health?.suspectDatabase(),
  });

  // With no traffic an open breaker never gets its half-open trial: send one.
  let probing = false;
  const stopping = new AbortController();
  const probeUntilClosed = async (): Promise<void> => {
    if (probing) return;
    probing = true;
    try {
      while (!stopping.signal.aborted && policy.breakerState() === 'open') {
        await delay(config.resilience.breakerHalfOpenAfterMs, undefined, { signal: stopping.signal }).catch(() => undefined);
        await db
          .read('recovery-probe', (c) => c.oneFirst(sql.unsafe`select 1`), { deadline: new Date(Date.now() + config.db.pingTimeoutMs) })
          .catch(() => undefined);
      }
    } finally {
      probing = false;
    }
  };

  const changes = createOutboxChangeLog({ traceId: () => deps.requestContext?.correlationId() });
  const serviceDeps = { db, pageTokens: new PageTokenCodec(config.pageTokenSecret), changes };
  const profiles = createProfileHandlers(createProfileService(serviceDeps));
  const programs = createProgramHandlers(createProgramService(serviceDeps));
  const enrollments = createEnrollmentHandlers(createEnrollmentService(serviceDeps));
  const sessions = createSessionHandlers(createSessionService(serviceDeps));
  const events = createEventHandlers(createEventService(serviceDeps));
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
    createProgram: wrap('CreateProgram', programs.createProgram),
    getProgram: wrap('GetProgram', programs.getProgram),
    listPrograms: wrap('ListPrograms', programs.listPrograms),
    updateProgram: wrap('UpdateProgram', programs.updateProgram),
    deleteProgram: wrap('DeleteProgram', programs.deleteProgram),
    createEnrollment: wrap('CreateEnrollment', enrollments.createEnrollment),
    getEnrollment: wrap('GetEnrollment', enrollments.getEnrollment),
    listEnrollments: wrap('ListEnrollments', enrollments.listEnrollments),
    updateEnrollment: wrap('UpdateEnrollment', enrollments.updateEnrollment),
    deleteEnrollment: wrap('DeleteEnrollment', enrollments.deleteEnrollment),
    getProgramProgress: wrap('GetProgramProgress', enrollments.getProgramProgress),
    createSession: wrap('CreateSession', sessions.createSession),
    getSession: wrap('GetSession', sessions.getSession),
    listSessions: wrap('ListSessions', sessions.listSessions),
    updateSession: wrap('UpdateSession', sessions.updateSession),
    deleteSession: wrap('DeleteSession', sessions.deleteSession),
    completeSession: wrap('CompleteSession', sessions.completeSession),
    listEvents: wrap('ListEvents', events.listEvents),
  };
  const eventJobs = createEventJobs({
    config: config.events,
    db,
    logger,
    metrics: metrics.events,
    probe: { intervalMs: config.db.healthCheckIntervalMs, timeoutMs: config.db.pingTimeoutMs },
  });
  const health = createHealthModule({
    config,
    database: () => reloads.current().db,
    logger,
    pool: () => pools.current(),
    poolSnapshot: poolInstrumentation.snapshot,
    expectedSchemaVersion: loadMigrations(MIGRATIONS_DIR).length,
    databaseCircuitState: () => policy.breakerState(),
    metrics,
    sanitize: (text) => deps.secrets.scrub(text),
    requestContext: deps.requestContext,
    extraChecks: eventJobs.healthChecks,
  });
  late.health = health;
  const grpc = createGrpcServer({
    services: [{ name: COACHING_SERVICE_NAME, definition: CoachingServiceService, implementation }, health.service],
    descriptorSetPath: DESCRIPTOR_SET,
    limits: config.grpc.limits,
    credentials: publicTls.credentials,
    onPingViolation: () => metrics.pingViolation('public'),
  });
  metrics.trackWatches('public', () => grpc.health.openWatches());
  // Liveness: the process answers. It never looks at a dependency (a restart does not heal a database).
  grpc.status.set('liveness', 'SERVING');
  // The health API works without the database: SERVING until shutdown.
  grpc.status.set(HEALTH_SERVICE_NAME, 'SERVING');
  const gate = new ReadinessGate(grpc.status, ['readiness', '', COACHING_SERVICE_NAME], logger.child({ module: 'health' }), {
    'not-draining': true,
    'database-connected': connected,
    'database-circuit-closed': true,
    // Until the first probe of every dependency has answered.
    'critical-dependencies-healthy': false,
  });
  late.readiness = gate;
  const port = await grpc.listen(config.grpc.host, config.grpc.port);
  const metricsServer = await startMetricsServer(config.metrics, metrics.registry, logger);
  admin = await startAdminListener({
    config: config.admin,
    limits: config.grpc.limits,
    descriptorSetPath: DESCRIPTOR_SET,
    breakers: new Map([[DATABASE_DEPENDENCY_NAME, policy]]),
    ...(eventJobs.deadLetters !== undefined && { deadLetters: eventJobs.deadLetters }),
    logger,
    metrics,
    secrets: deps.secrets,
    ...(deps.requestContext !== undefined && { requestContext: deps.requestContext }),
  }).catch(async (error: unknown) => {
    // Nothing may keep listening when startup fails.
    grpc.server.forceShutdown();
    publicTls.close();
    await metricsServer?.close();
    await eventJobs.stop();
    await pools.close();
    throw new StartupError('listener', `admin listener: ${(error as Error).message}`, { cause: error });
  });
  await health.start(gate);
  eventJobs.start();

  if (!connected) {
    const reconnect = retry(handleWhen(isUnreachable), {
      maxAttempts: Number.POSITIVE_INFINITY,
      backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: config.resilience.reconnectMaxDelayMs }),
    });
    reconnect.onRetry((event) => dbLogger.info({ attempt: event.attempt, delayMs: event.delay }, 'database still unreachable; retrying'));
    reconnect.execute(connect, stopping.signal).then(
      () => {
        gate.set('database-connected', true);
        logger.info('database connected after a degraded start: SERVING');
      },
      (error: unknown) => {
        if (stopping.signal.aborted) return;
        if (error instanceof StartupError) deps.onFatal?.(error);
        else logger.error({ err: error }, 'reconnecting to the database failed unexpectedly');
      },
    );
  }

  const reload = (): Promise<ReloadOutcome> => reloads.reload();
  const passwordFile = config.db.password.kind === 'file' && config.resilience.watchPasswordFile ? config.db.password.path : undefined;
  if (passwordFile !== undefined) {
    // Polling stat survives the symlink swaps Kubernetes uses to update mounted secrets.
    watchFile(passwordFile, { interval: 500 }, (current, previous) => {
      if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) {
        logger.info('database password file changed: reloading the pool');
        void reload();
      }
    });
  }

  logger.info(
    {
      environment: config.appEnv,
      grpc: `${config.grpc.host}:${port}`,
      tls: publicTls.secure ? (config.grpc.tls?.clientAuth === 'none' ? 'tls' : `mtls-${config.grpc.tls?.clientAuth}`) : 'plaintext',
      admin: admin === undefined ? 'disabled' : `${config.admin.host}:${admin.port}`,
      database: {
        host: config.db.host,
        port: config.db.port,
        name: config.db.name,
        schema: config.db.schema,
        tls: config.db.sslMode,
        embedded: config.db.embedded,
      },
      pool: { max: config.db.maxConnections, statementTimeoutMs: config.db.statementTimeoutMs },
      ready: connected,
    },
    'coaching-service serving',
  );
  // Operators and deploy tooling wait for this line: do not leave it in the write batch.
  logger.flush();

  return {
    port,
    pools,
    policy,
    db,
    grpc,
    readiness: gate,
    health,
    metricsPort: metricsServer?.port,
    admin,
    adminPort: admin?.port,
    events: eventJobs,
    configInForce: () => reloads.current(),
    reload,
    async stop() {
      gate.set('not-draining', false);
      grpc.status.set(HEALTH_SERVICE_NAME, 'NOT_SERVING');
      logger.info({ drainDelayMs: config.shutdownDrainDelayMs }, 'draining: readiness NOT_SERVING');
      await delay(config.shutdownDrainDelayMs);
      stopping.abort();
      if (passwordFile !== undefined) unwatchFile(passwordFile);
      const [how] = await Promise.all([grpc.shutdown(config.shutdownTimeoutMs), admin?.stop(config.shutdownTimeoutMs)]);
      publicTls.close();
      health.stop();
      await eventJobs.stop();
      await metricsServer?.close();
      await reloads.settled();
      await pools.close();
      logger.info({ shutdown: how }, 'coaching-service stopped');
    },
  };
}
