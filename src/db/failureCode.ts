import { DomainError } from '../domain/errors';
import { driverCode, hasErrorNamed } from './driverErrors';

/**
 * A stable UPPER_SNAKE code for a database failure, from a small fixed set so
 * that it can label metrics and health events (bounded cardinality) and be
 * branched on by alert rules. Domain errors keep their own reason.
 */
export function databaseFailureCode(error: unknown): string {
  const code = driverCode(error);
  switch (code) {
    case '28P01':
    case '28000':
      return 'AUTH_FAILED';
    case '3D000':
      return 'DATABASE_NOT_FOUND';
    case 'ECONNREFUSED':
      return 'CONNECTION_REFUSED';
    case 'ETIMEDOUT':
      return 'CONNECT_TIMEOUT';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'HOST_NOT_FOUND';
    case '57P01':
      return 'SERVER_SHUTTING_DOWN';
    case '57P02':
    case '57P03':
      return 'SERVER_STARTING';
    case '53300':
      return 'TOO_MANY_CONNECTIONS';
    case '57014':
      return 'STATEMENT_TIMEOUT';
    case '25006':
      return 'READ_ONLY';
    case '42P01':
      return 'UNDEFINED_TABLE';
    case '08P01':
      // A pooler's refusal (PgBouncer: unsupported startup parameter), not a lost connection.
      return 'PROTOCOL_VIOLATION';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'CONNECTION_LOST';
  }
  if (code !== undefined && /CERT|TLS|SSL/.test(code)) return 'TLS_ERROR';
  if (code?.startsWith('08') === true) return 'CONNECTION_LOST';
  if (hasErrorNamed(error, 'StatementTimeoutError')) return 'STATEMENT_TIMEOUT';
  if (hasErrorNamed(error, 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError')) return 'CONNECTION_LOST';
  if (error instanceof DomainError) return error.reason;
  if (hasErrorNamed(error, 'ConnectionError')) return 'CONNECTION_FAILED';
  return 'OTHER';
}
