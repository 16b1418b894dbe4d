/**
 * The typed client of coaching.v1.CoachingService for internal callers
 * (package entry point `coaching-service/client`). See README "Calling it
 * from another service".
 */
import { CoachingServiceService } from '../generated/coaching/v1/coaching_service';
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from './createServiceClient';

export type CoachingClient = ServiceClient<typeof CoachingServiceService>;

/** A client of CoachingService over one round-robin, retrying, keepalive channel to `options.target`. */
export function createCoachingClient(options: ServiceClientOptions): CoachingClient {
  return createServiceClient(CoachingServiceService, options);
}

export { createServiceClient, type ServiceClient, type ServiceClientOptions, type ClientCallOptions, type ClientTlsOptions } from './createServiceClient';
export {
  CoachingServiceError,
  InvalidArgumentError,
  NotFoundError,
  AlreadyExistsError,
  FailedPreconditionError,
  AbortedError,
  UnavailableError,
  ResourceExhaustedError,
  DeadlineExceededError,
  toClientError,
} from './errors';
export { buildServiceConfig, DEFAULT_RETRY, RETRYABLE_CODES, type RetrySettings } from './serviceConfig';
export { describeMethods, type MethodKind, type MethodInfo } from './methodKinds';
// The request, response and resource messages callers build and read.
export * from '../generated/coaching/v1/coaching_service';
export { Profile, Role } from '../generated/coaching/v1/profile';
export { Program, ProgramStatus } from '../generated/coaching/v1/program';
export { Enrollment, EnrollmentStatus } from '../generated/coaching/v1/enrollment';
export { Session, SessionStatus } from '../generated/coaching/v1/session';
export { ProgramProgress } from '../generated/coaching/v1/program_progress';
