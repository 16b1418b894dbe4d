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

/**
 * Maps any thrown value to the status a client sees. Unknown errors become
 * INTERNAL with only the correlation id: no SQL, stack or credential crosses
 * the wire.
 */
export function toStatus(error: unknown, correlationId: string): MappedStatus {
  const metadata = new Metadata();
  if (error instanceof DomainError) {
    const code = CODES.find(([type]) => error instanceof type)?.[1] ?? status.INTERNAL;
    metadata.set('x-error-reason', error.reason);
    if (error instanceof UnavailableError && error.retryAfterMs !== undefined) {
      metadata.set('retry-pushback-ms', String(error.retryAfterMs));
    }
    return { code, details: error.message, metadata, expected: true, reason: error.reason };
  }
  metadata.set('x-error-reason', 'INTERNAL');
  return { code: status.INTERNAL, details: `internal error (correlation id ${correlationId})`, metadata, expected: false, reason: 'INTERNAL' };
}
