import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import type { ChangeLog } from '../services/changeLog';
import { createEventService } from '../services/eventService';
import { createEventHandlers } from '../grpc/handlers/eventHandlers';
import { PageTokenCodec } from '../domain/PageTokenCodec';
import { CoachingServiceService } from '../generated/coaching/v1/coaching_service';
import type { ServiceRegistration } from '../grpc/ServiceRegistration';
import { createEnrollmentHandlers } from '../grpc/handlers/enrollmentHandlers';
import { createProfileHandlers } from '../grpc/handlers/profileHandlers';
import { createProgramHandlers } from '../grpc/handlers/programHandlers';
import { createSessionHandlers } from '../grpc/handlers/sessionHandlers';
import { wrapService } from '../grpc/wrapService';
import { createUnaryWrapper, type CallScope } from '../grpc/wrapUnary';
import type { RequestContext } from '../log/RequestContext';
import type { ServiceTracing } from '../tracing/startTracing';
import { createEnrollmentService } from '../services/enrollmentService';
import { createProfileService } from '../services/profileService';
import { createProgramService } from '../services/programService';
import { createSessionService } from '../services/sessionService';
import type { Metrics } from './ServiceDeps';

export const COACHING_SERVICE_NAME = 'coaching.v1.CoachingService';

/** coaching.v1.CoachingService: services over the gateway, handlers over the services, every method wrapped from the generated definition. */
export function createCoachingApi(
  config: Config,
  db: DatabaseGateway,
  changes: ChangeLog,
  logger: Logger,
  metrics: Metrics,
  requestContext: RequestContext | undefined,
  tracer: ServiceTracing['rpc'],
  /** Per-call scope (several DB_HOST endpoints: x-require-primary in, x-data-source out). */
  scope?: CallScope,
): ServiceRegistration {
  const serviceDeps = { db, pageTokens: new PageTokenCodec(config.pageTokenSecret), changes };
  const handlers = {
    ...createProfileHandlers(createProfileService(serviceDeps)),
    ...createProgramHandlers(createProgramService(serviceDeps)),
    ...createEnrollmentHandlers(createEnrollmentService(serviceDeps)),
    ...createSessionHandlers(createSessionService(serviceDeps)),
    ...createEventHandlers(createEventService(serviceDeps)),
  };
  const wrap = createUnaryWrapper({
    logger: logger.child({ module: 'rpc' }),
    observe: metrics.rpcObserver(COACHING_SERVICE_NAME),
    requestContext,
    tracer: tracer(COACHING_SERVICE_NAME),
    ...(scope !== undefined && { scope }),
  });
  return { name: COACHING_SERVICE_NAME, definition: CoachingServiceService, implementation: wrapService(CoachingServiceService, handlers, wrap) };
}
