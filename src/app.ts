import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config } from './config/config';
import { createDatabaseGateway } from './db/DatabaseGateway';
import { createDatabasePool } from './db/createDatabasePool';
import { prepareDatabase } from './db/prepareDatabase';
import { PageTokenCodec } from './domain/PageTokenCodec';
import { CoachingServiceService, type CoachingServiceServer } from './generated/coaching/v1/coaching_service';
import { createGrpcServer, type GrpcServer } from './grpc/createGrpcServer';
import { createEnrollmentHandlers } from './grpc/handlers/enrollmentHandlers';
import { createProfileHandlers } from './grpc/handlers/profileHandlers';
import { createProgramHandlers } from './grpc/handlers/programHandlers';
import { createSessionHandlers } from './grpc/handlers/sessionHandlers';
import { createUnaryWrapper } from './grpc/wrapUnary';
import { DESCRIPTOR_SET, MIGRATIONS_DIR } from './paths';
import { createEnrollmentService } from './services/enrollmentService';
import { createProfileService } from './services/profileService';
import { createProgramService } from './services/programService';
import { createSessionService } from './services/sessionService';

export const COACHING_SERVICE_NAME = 'coaching.v1.CoachingService';

/** A running service: its bound port, its parts for tests and operators, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly pool: DatabasePool;
  readonly grpc: GrpcServer;
  /** Readiness off, stop accepting, finish in-flight calls (bounded), close the pool. */
  stop(): Promise<void>;
}

/**
 * Builds the object graph from the configuration and starts serving. Called by
 * the composition root (main.ts) and by the tests, so both run the same wiring.
 * Throws StartupError (from prepareDatabase) before anything listens.
 */
export async function startService(config: Config, deps: { logger: Logger }): Promise<RunningService> {
  const { logger } = deps;
  await prepareDatabase(config, { migrate: config.db.migrateOnStart, migrationsDir: MIGRATIONS_DIR });
  const pool = await createDatabasePool(config.db);
  const db = createDatabaseGateway({ pools: { current: () => pool }, logger: logger.child({ module: 'db' }) });
  const serviceDeps = { db, pageTokens: new PageTokenCodec(config.pageTokenSecret) };
  const profiles = createProfileHandlers(createProfileService(serviceDeps));
  const programs = createProgramHandlers(createProgramService(serviceDeps));
  const enrollments = createEnrollmentHandlers(createEnrollmentService(serviceDeps));
  const sessions = createSessionHandlers(createSessionService(serviceDeps));

  const wrap = createUnaryWrapper({ logger: logger.child({ module: 'rpc' }) });
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
  };
  const grpc = createGrpcServer({
    services: [{ name: COACHING_SERVICE_NAME, definition: CoachingServiceService, implementation }],
    descriptorSetPath: DESCRIPTOR_SET,
  });
  const port = await grpc.listen(config.grpc.host, config.grpc.port);
  grpc.status.set('', 'SERVING');
  grpc.status.set(COACHING_SERVICE_NAME, 'SERVING');
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
    async stop() {
      grpc.status.set('', 'NOT_SERVING');
      grpc.status.set(COACHING_SERVICE_NAME, 'NOT_SERVING');
      const how = await grpc.shutdown(config.shutdownTimeoutMs);
      await pool.end();
      logger.info({ shutdown: how }, 'coaching-service stopped');
    },
  };
}
