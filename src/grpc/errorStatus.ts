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
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
  ValidationError,
} from '../domain/errors';
import { boundedText, TEXT_LIMITS } from '../domain/boundedText';
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
  [UnauthenticatedError, status.UNAUTHENTICATED],
  [UnimplementedError, status.UNIMPLEMENTED],
];

/** A status for the client plus whether the error was expected (domain) or a fault to log with its stack. */
export interface MappedStatus extends StatusObject {
  readonly expected: boolean;
  readonly reason: string;
}

/**
 * At most this many field violations travel in a BadRequest (the status
 * message says how many more there were): with every string capped, the
 * trailers stay within the 8 KiB of metadata that strict clients accept.
 */
const MAX_VIOLATIONS = 8;
/** At most this many ErrorInfo metadata entries. */
const MAX_METADATA_ENTRIES = 16;

const detail = (text: string): string => boundedText(text, TEXT_LIMITS.detail);

/** ErrorInfo metadata with every key and value bounded (ids and names in it may come from the request). */
function boundedMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metadata)
      .slice(0, MAX_METADATA_ENTRIES)
      .map(([key, value]) => [detail(key), detail(value)]),
  );
}

/** The status message: the error's own, made well-formed and capped (it may echo request values). */
function messageOf(error: DomainError | undefined, correlationId: string): string {
  if (error === undefined) return `internal error (correlation id ${correlationId})`;
  if (error instanceof ValidationError && error.violations.length > MAX_VIOLATIONS) {
    const shown = error.violations.slice(0, MAX_VIOLATIONS).map((v) => `${v.field}: ${v.description}`);
    return boundedText(`${shown.join('; ')}; and ${error.violations.length - MAX_VIOLATIONS} more`, TEXT_LIMITS.statusMessage);
  }
  return boundedText(error.message, TEXT_LIMITS.statusMessage);
}

function pack(typeName: string, bytes: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(bytes) };
}

/** When the client should retry, for the errors that say so. */
const retryAfterOf = (error: DomainError | undefined): number | undefined =>
  error instanceof UnavailableError || error instanceof ResourceExhaustedError ? error.retryAfterMs : undefined;

/** The google.rpc details of an error: always an ErrorInfo, plus BadRequest or RetryInfo where they apply. */
function detailsOf(error: DomainError | undefined, reason: string, correlationId: string): Any[] {
  const metadata = error === undefined ? { correlation_id: correlationId } : boundedMetadata(error.metadata);
  const details = [pack('google.rpc.ErrorInfo', ErrorInfo.encode({ reason, domain: ERROR_DOMAIN, metadata }).finish())];
  if (error instanceof ValidationError) {
    const fieldViolations = error.violations
      .slice(0, MAX_VIOLATIONS)
      .map((v) => ({ field: detail(v.field), description: detail(v.description), reason: '', localizedMessage: undefined }));
    details.push(pack('google.rpc.BadRequest', BadRequest.encode({ fieldViolations }).finish()));
  }
  const ms = retryAfterOf(error);
  if (ms !== undefined) {
    const retryDelay = { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
    details.push(pack('google.rpc.RetryInfo', RetryInfo.encode({ retryDelay }).finish()));
  }
  return details;
}

/**
 * Maps any thrown value to the status a client sees: the code, a message,
 * the `x-error-reason` trailer and a google.rpc.Status in
 * `grpc-status-details-bin`. Unknown errors become INTERNAL with only the
 * correlation id: no SQL, stack or credential crosses the wire. Every string
 * in it is well-formed and capped (see domain/boundedText.ts): a lone
 * surrogate in a status message crashes grpc-js, and an oversized trailer
 * never reaches the client.
 */
export function toStatus(error: unknown, correlationId: string): MappedStatus {
  const known = error instanceof DomainError ? error : undefined;
  const code = known === undefined ? status.INTERNAL : (CODES.find(([type]) => known instanceof type)?.[1] ?? status.INTERNAL);
  const reason = detail(known?.reason ?? 'INTERNAL');
  const details = messageOf(known, correlationId);

  const metadata = new Metadata();
  metadata.set('x-error-reason', reason);
  const retryAfterMs = retryAfterOf(known);
  if (retryAfterMs !== undefined) {
    metadata.set('retry-pushback-ms', String(retryAfterMs));
    // The name gRPC's retry design (A6) defines and grpc-js's retrying channel honours.
    metadata.set('grpc-retry-pushback-ms', String(retryAfterMs));
  }
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode({ code, message: details, details: detailsOf(known, reason, correlationId) }).finish()));
  return { code, details, metadata, expected: known !== undefined, reason };
}
