import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, RetryInfo, type BadRequest_FieldViolation } from '../generated/google/rpc/error_details';
import { Status } from '../generated/google/rpc/status';

/**
 * A failed call, decoded: the gRPC code and message plus the google.rpc
 * details the server sent in `grpc-status-details-bin` (ErrorInfo always,
 * BadRequest for INVALID_ARGUMENT, RetryInfo when the server says when to
 * come back). Branch on the subclass or on `reason`, never on the message.
 */
export class CoachingServiceError extends Error {
  /** gRPC status code (`status.NOT_FOUND`, ...). */
  readonly code: status;
  /** ErrorInfo.reason: stable UPPER_SNAKE (`PROFILE_IN_USE`); `UNKNOWN` when the server sent none. */
  readonly reason: string;
  /** ErrorInfo.domain (`coaching.v1`); empty when the error did not come from the service. */
  readonly domain: string;
  /** ErrorInfo.metadata (resource, id, reference counts, ...). */
  readonly errorMetadata: Readonly<Record<string, string>>;
  /** BadRequest field violations (INVALID_ARGUMENT). */
  readonly fieldViolations: readonly BadRequest_FieldViolation[];
  /** RetryInfo.retry_delay in ms, when the server said how long to wait. */
  readonly retryDelayMs: number | undefined;
  /** The call's trailers (x-request-id, x-error-reason, ...). */
  readonly trailers: Metadata | undefined;

  constructor(error: ServiceError) {
    super(error.details, { cause: error });
    // The subclass's own name (InvalidArgumentError, ...), for logs and stack traces.
    this.name = new.target.name;
    this.code = error.code;
    const decoded = decodeDetails(error.metadata);
    this.reason = decoded.errorInfo?.reason ?? 'UNKNOWN';
    this.domain = decoded.errorInfo?.domain ?? '';
    this.errorMetadata = Object.freeze({ ...decoded.errorInfo?.metadata });
    this.fieldViolations = decoded.badRequest?.fieldViolations ?? [];
    const delay = decoded.retryInfo?.retryDelay;
    this.retryDelayMs = delay === undefined ? undefined : Number(delay.seconds) * 1000 + Math.floor(delay.nanos / 1_000_000);
    this.trailers = error.metadata;
  }

  /** True for the codes the client retries itself (UNAVAILABLE, RESOURCE_EXHAUSTED): it already did. */
  get retryable(): boolean {
    return this.code === status.UNAVAILABLE || this.code === status.RESOURCE_EXHAUSTED;
  }
}

export class InvalidArgumentError extends CoachingServiceError {}
export class NotFoundError extends CoachingServiceError {}
export class AlreadyExistsError extends CoachingServiceError {}
export class FailedPreconditionError extends CoachingServiceError {}
/** An etag no longer matches (ETAG_MISMATCH): read again and re-apply the change. */
export class AbortedError extends CoachingServiceError {}
export class UnavailableError extends CoachingServiceError {}
export class ResourceExhaustedError extends CoachingServiceError {}
export class DeadlineExceededError extends CoachingServiceError {}

const BY_CODE: Partial<Record<status, new (error: ServiceError) => CoachingServiceError>> = {
  [status.INVALID_ARGUMENT]: InvalidArgumentError,
  [status.NOT_FOUND]: NotFoundError,
  [status.ALREADY_EXISTS]: AlreadyExistsError,
  [status.FAILED_PRECONDITION]: FailedPreconditionError,
  [status.ABORTED]: AbortedError,
  [status.UNAVAILABLE]: UnavailableError,
  [status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [status.DEADLINE_EXCEEDED]: DeadlineExceededError,
};

/** The typed exception for a failed call. */
export function toClientError(error: ServiceError): CoachingServiceError {
  const Type = BY_CODE[error.code] ?? CoachingServiceError;
  return new Type(error);
}

function decodeDetails(metadata: Metadata | undefined) {
  const [raw] = metadata?.get('grpc-status-details-bin') ?? [];
  if (!Buffer.isBuffer(raw)) return {};
  let decoded: Status;
  try {
    decoded = Status.decode(raw);
  } catch {
    // A proxy's or another server's trailer we cannot read: the code and message still stand.
    return {};
  }
  const unpack = <T>(typeName: string, decode: (bytes: Uint8Array) => T): T | undefined => {
    const any = decoded.details.find((d) => d.typeUrl === `type.googleapis.com/${typeName}`);
    return any === undefined ? undefined : decode(any.value);
  };
  return {
    errorInfo: unpack('google.rpc.ErrorInfo', (b) => ErrorInfo.decode(b)),
    badRequest: unpack('google.rpc.BadRequest', (b) => BadRequest.decode(b)),
    retryInfo: unpack('google.rpc.RetryInfo', (b) => RetryInfo.decode(b)),
  };
}
