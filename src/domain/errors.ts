import type { ErrorReason } from './errorReasons';

/**
 * The service's own error vocabulary. Repositories translate driver errors
 * into these (keeping the original as `cause`); grpc/errorStatus.ts maps them
 * to gRPC status codes. `reason` is a stable UPPER_SNAKE identifier clients
 * may branch on; `metadata` adds machine-readable facts about this occurrence
 * (sent as google.rpc.ErrorInfo metadata).
 */
export abstract class DomainError extends Error {
  /** One of the closed set of reasons (errorReasons.ts), each documented in the proto. */
  abstract readonly reason: ErrorReason;
  readonly metadata: Readonly<Record<string, string>>;
  constructor(message: string, options?: DomainErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.metadata = options?.metadata ?? {};
  }
}

export interface DomainErrorOptions {
  readonly cause?: unknown;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** One broken rule of one request field. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** The request is malformed; nothing was read or written. */
export class ValidationError extends DomainError {
  readonly reason = 'INVALID_ARGUMENT';
  constructor(
    readonly violations: readonly FieldViolation[],
    options?: { cause?: unknown },
  ) {
    // An empty field path names the request as a whole.
    super(violations.map((v) => (v.field === '' ? v.description : `${v.field}: ${v.description}`)).join('; '), options);
  }
}

export class NotFoundError extends DomainError {
  readonly reason = 'NOT_FOUND';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} not found`, { metadata: { resource, id } });
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: DomainErrorOptions,
  ) {
    super(message, options);
  }
}

/** Optimistic concurrency: the client's etag is not the current one. */
export class EtagMismatchError extends DomainError {
  readonly reason = 'ETAG_MISMATCH';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} was changed by someone else (etag mismatch); read it again and retry`, { metadata: { resource, id } });
  }
}

export class FailedPreconditionError extends DomainError {
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: DomainErrorOptions,
  ) {
    super(message, options);
  }
}

/** How many rows of each kind reference a row, e.g. { programs: 2, sessions: 5 }. */
export type ReferenceCounts = Readonly<Record<string, number>>;

/** A delete without `force` of a row that others still reference; reason `<RESOURCE>_IN_USE`. */
export class InUseError extends FailedPreconditionError {
  constructor(resource: string, id: string, references: ReferenceCounts, options?: { cause?: unknown }) {
    const named = Object.entries(references)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${n === 1 ? kind.replace(/s$/, '') : kind}`);
    super(
      `${resource.toUpperCase()}_IN_USE` as ErrorReason,
      `${resource} ${id} is still referenced by ${named.length > 0 ? named.join(', ') : 'other rows'}; delete those first, or delete with force to remove them too`,
      { cause: options?.cause, metadata: { resource, id, ...Object.fromEntries(Object.entries(references).map(([k, n]) => [k, String(n)])) } },
    );
  }
}

/**
 * Whether the failed work may be run again: `safe` when it certainly did not
 * take effect (never connected, transaction rolled back), `ambiguous` when it
 * may have (connection lost mid-statement or mid-commit).
 */
export type RetrySafety = 'safe' | 'ambiguous';

/** A dependency cannot serve the request now; retrying later may succeed. */
export class UnavailableError extends DomainError {
  readonly retryAfterMs: number | undefined;
  readonly retry: RetrySafety | undefined;
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number; retry?: RetrySafety },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.retry = options?.retry;
  }
}

/** The database rolled the transaction back (serialization failure, deadlock); it can be run again. */
export class TransactionConflictError extends DomainError {
  readonly reason = 'TRANSACTION_CONFLICT';
  readonly retry: RetrySafety = 'safe';
  constructor(options?: { cause?: unknown }) {
    super('the transaction conflicted with a concurrent one and was rolled back; retry', options);
  }
}

export class DeadlineExceededError extends DomainError {
  readonly reason = 'DEADLINE_EXCEEDED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class ResourceExhaustedError extends DomainError {
  /** When a retry is worth trying (sent as RetryInfo and retry-pushback-ms). */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The caller did not prove who it is (admin token missing or wrong). */
export class UnauthenticatedError extends DomainError {
  readonly reason = 'UNAUTHENTICATED';
  constructor(message: string) {
    super(message);
  }
}

/** The method is not served here; `reason` says where it went (e.g. MOVED_TO_ADMIN_LISTENER). */
export class UnimplementedError extends DomainError {
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
  }
}
