import { DeadlineExceededError, UnavailableError, type DomainError } from '../domain/errors';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The SQLSTATE or errno code of an error or of any error in its cause chain. */
export function driverCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

/**
 * The constraint (or unique index) an integrity error violated, when its
 * SQLSTATE is `sqlState`. Read from the driver error rather than by
 * `instanceof`, which breaks when a test runner loads slonik's ESM twice.
 */
export function violatedConstraint(error: unknown, sqlState: string): string | undefined {
  if (driverCode(error) !== sqlState) return undefined;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const constraint = (e as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
  }
  return undefined;
}

/** True when any error in the cause chain has the given constructor name. */
export function hasErrorNamed(error: unknown, ...names: string[]): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (names.includes(e.constructor.name) || names.includes(e.name)) return true;
  }
  return false;
}

/** Text that reveals nothing about the query, only about the connection failure. */
function connectionProblem(code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not resolvable';
    case '57P01':
      return 'the server is shutting down (admin shutdown)';
    case '57P02':
    case '57P03':
      return 'the server is starting up or in recovery';
    case '53300':
      return 'too many connections';
    default:
      return 'connection lost';
  }
}

/**
 * Translates an infrastructure failure of the database driver into a domain
 * error, or returns undefined when the error is not one (constraint
 * violations and the like are the repositories' business).
 */
export function translateDriverError(error: unknown): DomainError | undefined {
  const code = driverCode(error);
  if (code === '28P01' || code === '28000') {
    return new UnavailableError('DATABASE_AUTH_FAILED', 'database rejected the service credentials; an operator must check DB_USER/DB_PASSWORD', {
      cause: error,
    });
  }
  if (code === '25006') {
    return new UnavailableError('DATABASE_READ_ONLY', 'database is read-only; writes are unavailable, reads still work', { cause: error });
  }
  if (code === '57014' || hasErrorNamed(error, 'StatementTimeoutError')) {
    return new DeadlineExceededError('database statement timed out', { cause: error });
  }
  const isConnection =
    (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code))) ||
    hasErrorNamed(error, 'ConnectionError', 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError');
  if (isConnection) {
    return new UnavailableError('DATABASE_UNAVAILABLE', `database is unavailable (${connectionProblem(code)}); retry with backoff`, { cause: error });
  }
  return undefined;
}
