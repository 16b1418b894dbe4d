import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  DeadlineExceededError,
  DomainError,
  EtagMismatchError,
  FailedPreconditionError,
  NotFoundError,
  ResourceExhaustedError,
  TransactionConflictError,
  UnavailableError,
  ValidationError,
} from '../domain/errors';
import type { Any } from '../generated/google/protobuf/any';
import { BadRequest, ErrorInfo, RetryInfo } from '../generated/google/rpc/error_details';
import { Status } from '../generated/google/rpc/status';

/** ErrorInfo.domain of every error this service returns. */
export const ERROR_DOMAIN = 'coaching.v1';
/** The trailer gRPC clients read rich error details from (a serialized google.rpc.Status). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** The translation table from domain errors to gRPC status codes. */
const CODES: readonly [new (...args: never[]) => DomainError, status][] = [
  [ValidationError, status.INVALID_ARGUMENT],
  [NotFoundError, status.NOT_FOUND],
  [AlreadyExistsError, status.ALREADY_EXISTS],
  [EtagMismatchError, status.ABORTED],
  [TransactionConflictError, status.ABORTED],
  [FailedPreconditionError, status.FAILED_PRECONDITION],
  [UnavailableError, status.UNAVAILABLE],
  [DeadlineExceededError, status.DEADLINE_EXCEEDED],
  [ResourceExhaustedError, status.RESOURCE_EXHAUSTED],
];

/** A status for the client plus whether the error was expected (domain) or a fault to log with its stack. */
export interface MappedStatus extends StatusObject {
  readonly expected: boolean;
  readonly reason: string;
}

function pack(typeName: string, bytes: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(bytes) };
}

/** The google.rpc details of an error: always an ErrorInfo, plus BadRequest or RetryInfo where they apply. */
function detailsOf(error: DomainError | undefined, reason: string, correlationId: string): Any[] {
  const metadata = error === undefined ? { correlation_id: correlationId } : { ...error.metadata };
  const details = [pack('google.rpc.ErrorInfo', ErrorInfo.encode({ reason, domain: ERROR_DOMAIN, metadata }).finish())];
  if (error instanceof ValidationError) {
    const fieldViolations = error.violations.map((v) => ({ field: v.field, description: v.description, reason: '', localizedMessage: undefined }));
    details.push(pack('google.rpc.BadRequest', BadRequest.encode({ fieldViolations }).finish()));
  }
  if (error instanceof UnavailableError && error.retryAfterMs !== undefined) {
    const ms = error.retryAfterMs;
    const retryDelay = { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
    details.push(pack('google.rpc.RetryInfo', RetryInfo.encode({ retryDelay }).finish()));
  }
  return details;
}

/**
 * Maps any thrown value to the status a client sees: the code, a message,
 * the `x-error-reason` trailer and a google.rpc.Status in
 * `grpc-status-details-bin`. Unknown errors become INTERNAL with only the
 * correlation id: no SQL, stack or credential crosses the wire.
 */
export function toStatus(error: unknown, correlationId: string): MappedStatus {
  const known = error instanceof DomainError ? error : undefined;
  const code = known === undefined ? status.INTERNAL : (CODES.find(([type]) => known instanceof type)?.[1] ?? status.INTERNAL);
  const reason = known?.reason ?? 'INTERNAL';
  const details = known?.message ?? `internal error (correlation id ${correlationId})`;

  const metadata = new Metadata();
  metadata.set('x-error-reason', reason);
  if (known instanceof UnavailableError && known.retryAfterMs !== undefined) {
    metadata.set('retry-pushback-ms', String(known.retryAfterMs));
    // The name gRPC's retry design (A6) defines and grpc-js's retrying channel honours.
    metadata.set('grpc-retry-pushback-ms', String(known.retryAfterMs));
  }
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode({ code, message: details, details: detailsOf(known, reason, correlationId) }).finish()));
  return { code, details, metadata, expected: known !== undefined, reason };
}
