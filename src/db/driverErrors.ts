import { DeadlineExceededError, TransactionConflictError, UnavailableError, ValidationError, type DomainError, type RetrySafety } from '../domain/errors';

/**
 * The error and its causes. Checked structurally, not with `instanceof Error`:
 * socket errors are created by Node internals, which under Jest live in
 * another realm than the code under test.
 */
function* causeChain(error: unknown): Generator<Error> {
  let e: unknown = error;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    yield e as Error;
    e = (e as { cause?: unknown }).cause;
  }
}

/** The SQLSTATE or errno code of an error or of any error in its cause chain. */
export function driverCode(error: unknown): string | undefined {
  for (const e of causeChain(error)) {
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
  for (const e of causeChain(error)) {
    const constraint = (e as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
  }
  return undefined;
}

/** True when any error in the cause chain has one of the given class names. */
export function hasErrorNamed(error: unknown, ...names: string[]): boolean {
  for (const e of causeChain(error)) {
    if (names.includes(e.constructor.name) || names.includes(e.name)) return true;
  }
  return false;
}

/** Connection failures, by code: what to tell an operator and whether the work may have run. */
const CONNECTION_CODES: Record<string, { problem: string; retry: RetrySafety }> = {
  ECONNREFUSED: { problem: 'connection refused', retry: 'safe' },
  ENOTFOUND: { problem: 'host name not resolvable', retry: 'safe' },
  EAI_AGAIN: { problem: 'host name not resolvable', retry: 'safe' },
  EHOSTUNREACH: { problem: 'host unreachable', retry: 'safe' },
  ENETUNREACH: { problem: 'network unreachable', retry: 'safe' },
  ETIMEDOUT: { problem: 'connection timed out', retry: 'ambiguous' },
  ECONNRESET: { problem: 'connection reset', retry: 'ambiguous' },
  EPIPE: { problem: 'connection closed', retry: 'ambiguous' },
  '53300': { problem: 'too many connections', retry: 'safe' },
  '57P03': { problem: 'the server is starting up or in recovery', retry: 'safe' },
  '08001': { problem: 'the server rejected the connection', retry: 'safe' },
  '08004': { problem: 'the server rejected the connection', retry: 'safe' },
  '57P01': { problem: 'the server is shutting down (admin shutdown)', retry: 'ambiguous' },
  '57P02': { problem: 'the server crashed (crash shutdown)', retry: 'ambiguous' },
  '08006': { problem: 'connection lost', retry: 'ambiguous' },
  '08003': { problem: 'connection lost', retry: 'ambiguous' },
  '08000': { problem: 'connection lost', retry: 'ambiguous' },
  // PgBouncer uses it for refusals before any work (an unsupported startup parameter) and for
  // failures during it ("server conn crashed?"): the work may have run.
  '08P01': { problem: 'protocol violation reported by the server or a connection pooler', retry: 'ambiguous' },
};

/**
 * Translates an infrastructure failure of the database driver into a domain
 * error, or returns undefined when the error is not one (constraint
 * violations and the like are the repositories' business).
 */
export function translateDriverError(error: unknown): DomainError | undefined {
  const code = driverCode(error);
  if (code === '28P01' || code === '28000') {
    // Raised while connecting, so nothing ran: safe to retry (e.g. a pool connecting in the moment between
    // a role's password change and the reload that brings the new secret).
    return new UnavailableError('DATABASE_AUTH_FAILED', 'database rejected the service credentials; an operator must check DB_USER/DB_PASSWORD', {
      cause: error,
      retry: 'safe',
    });
  }
  if (code === '25006') {
    return new UnavailableError('DATABASE_READ_ONLY', 'database is read-only (standby or read-only mode); writes are unavailable, reads still work', {
      cause: error,
    });
  }
  if (code === '40001' || code === '40P01') return new TransactionConflictError({ cause: error });
  if (code !== undefined && /^22[0-9A-Z]{3}$/.test(code)) return dataException(code, error);
  // slonik's driver rethrows 22P02 (invalid text representation) as an InvalidInputError that keeps neither
  // the code nor the cause, and its sql tag raises the same class for a value it cannot bind (NUL or a lone
  // surrogate in JSON): both are input the request rules should have refused, so a data exception too.
  if (hasErrorNamed(error, 'InvalidInputError')) return dataException('22P02', error);
  if (code === '57014' || hasErrorNamed(error, 'StatementTimeoutError')) {
    return new DeadlineExceededError('the database did not answer within the time left for this call', { cause: error });
  }
  const known = code === undefined ? undefined : CONNECTION_CODES[code];
  if (known !== undefined || (code !== undefined && code.startsWith('08'))) {
    return unavailable(known?.problem ?? 'connection lost', known?.retry ?? 'ambiguous', error);
  }
  if (hasErrorNamed(error, 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError') || isDestroyedClientError(error)) {
    return unavailable('connection lost', 'ambiguous', error);
  }
  // slonik raises ConnectionError when it could not obtain a connection: nothing ran.
  if (hasErrorNamed(error, 'ConnectionError')) return unavailable('could not connect', 'safe', error);
  return undefined;
}

/**
 * slonik's driver throws a plain Error with no code when work continues on a
 * connection it is already destroying (its backend was terminated mid
 * transaction). It has no class or code to branch on, so this one match on
 * the message is deliberate; the test suite's termination chaos covers it.
 */
const DESTROYED_CLIENT_MESSAGES = new Set(['Client is pending destroy.', 'Client is pending release.']);
function isDestroyedClientError(error: unknown): boolean {
  for (const e of causeChain(error)) if (DESTROYED_CLIENT_MESSAGES.has(e.message)) return true;
  return false;
}

/**
 * Defence in depth: a data exception (SQLSTATE class 22: invalid text, NUL
 * byte, value out of range, bad datetime) means a value the request rules
 * should have refused reached the database. It is still the request's fault,
 * so INVALID_ARGUMENT, never INTERNAL; the message names the SQLSTATE but
 * never PostgreSQL's text, which may quote the value or the SQL. The field is
 * not known here: the empty path names the request as a whole.
 */
function dataException(code: string, cause: unknown): ValidationError {
  return new ValidationError([{ field: '', description: `the request holds a value the database refused as invalid data (SQLSTATE ${code})` }], { cause });
}

function unavailable(problem: string, retry: RetrySafety, cause: unknown): UnavailableError {
  return new UnavailableError('DATABASE_UNAVAILABLE', `database is unavailable (${problem}); retry with backoff`, { cause, retry });
}
