import { DeadlineExceededError, TransactionConflictError, UnavailableError, ValidationError, type DomainError, type RetrySafety } from '../domain/errors';

import { causeChain, driverCode, firstFailure } from './driverFailures';

export { driverCode, hasErrorNamed } from './driverFailures';

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

/**
 * The domain view of the driver failure table (driverFailures.ts): translates
 * an infrastructure failure of the database driver into a domain error, or
 * returns undefined when the error is not one (constraint
 * violations and the like are the repositories' business).
 */
export function translateDriverError(error: unknown): DomainError | undefined {
  const failure = firstFailure(error, 'domain');
  switch (failure?.domain) {
    case undefined:
      return undefined;
    case 'auth':
      return new UnavailableError('DATABASE_AUTH_FAILED', 'database rejected the service credentials; an operator must check DB_USER/DB_PASSWORD', {
        cause: error,
        retry: 'safe',
      });
    case 'read-only':
      return new UnavailableError('DATABASE_READ_ONLY', 'database is read-only (standby or read-only mode); writes are unavailable, reads still work', {
        cause: error,
      });
    case 'conflict':
      return new TransactionConflictError({ cause: error });
    case 'data':
      return dataException(failure.code ?? '22000', error);
    case 'statement-timeout':
      return new DeadlineExceededError('the database did not answer within the time left for this call', { cause: error });
    case 'unavailable':
      return unavailable(failure.problem ?? 'connection lost', failure.retry ?? 'ambiguous', error);
  }
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
