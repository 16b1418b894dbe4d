import { DomainError, type RetrySafety } from '../domain/errors';

/** Stable labels of database failures for metrics and health events: a small fixed set (bounded cardinality), branched on by alert rules. */
export type DatabaseFailureLabel =
  | 'AUTH_FAILED'
  | 'DATABASE_NOT_FOUND'
  | 'CONNECTION_REFUSED'
  | 'CONNECT_TIMEOUT'
  | 'HOST_NOT_FOUND'
  | 'SERVER_SHUTTING_DOWN'
  | 'SERVER_STARTING'
  | 'TOO_MANY_CONNECTIONS'
  | 'STATEMENT_TIMEOUT'
  | 'READ_ONLY'
  | 'UNDEFINED_TABLE'
  | 'PROTOCOL_VIOLATION'
  | 'CONNECTION_LOST'
  | 'TLS_ERROR'
  | 'CONNECTION_FAILED'
  | 'OTHER';

/** What a driver error means: one row, three views (driverErrors.ts: domain error; failureCode.ts: label; prepareDatabase.ts: startup refusal). */
export interface DriverFailure {
  /** The metric and health label; unset: the label view looks further. */
  readonly label?: DatabaseFailureLabel;
  /** An error that is a domain error already keeps its reason as its label. */
  readonly reason?: string;
  /** The domain error on the request path; unset: not an infrastructure failure of the driver (the repositories' business). */
  readonly domain?: 'auth' | 'read-only' | 'conflict' | 'data' | 'statement-timeout' | 'unavailable';
  /** For `unavailable`: what to tell an operator. */
  readonly problem?: string;
  /** For `unavailable`: whether the work may have run. */
  readonly retry?: RetrySafety;
  /** The SQLSTATE the row stands for when the error carries none. */
  readonly code?: string;
  /** At startup and reload: what an operator must fix; unset: `unreachable`, which may heal by itself. */
  readonly startup?: 'credentials' | 'database' | 'pooler' | 'tls';
}

const unavailable = (label: DatabaseFailureLabel, problem: string, retry: RetrySafety): DriverFailure => ({ label, domain: 'unavailable', problem, retry });
const AUTH: DriverFailure = { label: 'AUTH_FAILED', domain: 'auth', startup: 'credentials' };
const LOST = unavailable('CONNECTION_LOST', 'connection lost', 'ambiguous');

/** By SQLSTATE or errno code (the first code in the cause chain). */
const BY_CODE: Readonly<Record<string, DriverFailure>> = {
  // Raised while connecting, so nothing ran: retried safely (a pool may connect between a password change and the reload bringing the new secret).
  '28P01': AUTH,
  '28000': AUTH,
  '3D000': { label: 'DATABASE_NOT_FOUND', startup: 'database' },
  ECONNREFUSED: unavailable('CONNECTION_REFUSED', 'connection refused', 'safe'),
  ENOTFOUND: unavailable('HOST_NOT_FOUND', 'host name not resolvable', 'safe'),
  EAI_AGAIN: unavailable('HOST_NOT_FOUND', 'host name not resolvable', 'safe'),
  EHOSTUNREACH: unavailable('CONNECTION_LOST', 'host unreachable', 'safe'),
  ENETUNREACH: unavailable('CONNECTION_LOST', 'network unreachable', 'safe'),
  ETIMEDOUT: unavailable('CONNECT_TIMEOUT', 'connection timed out', 'ambiguous'),
  ECONNRESET: unavailable('CONNECTION_LOST', 'connection reset', 'ambiguous'),
  EPIPE: unavailable('CONNECTION_LOST', 'connection closed', 'ambiguous'),
  '53300': unavailable('TOO_MANY_CONNECTIONS', 'too many connections', 'safe'),
  '57P03': unavailable('SERVER_STARTING', 'the server is starting up or in recovery', 'safe'),
  '08001': unavailable('CONNECTION_LOST', 'the server rejected the connection', 'safe'),
  '08004': unavailable('CONNECTION_LOST', 'the server rejected the connection', 'safe'),
  '57P01': unavailable('SERVER_SHUTTING_DOWN', 'the server is shutting down (admin shutdown)', 'ambiguous'),
  '57P02': unavailable('SERVER_STARTING', 'the server crashed (crash shutdown)', 'ambiguous'),
  '08006': LOST,
  '08003': LOST,
  '08000': LOST,
  // PgBouncer uses it for refusals before any work (an unsupported startup parameter) and for
  // failures during it ("server conn crashed?"): the work may have run.
  '08P01': { ...unavailable('PROTOCOL_VIOLATION', 'protocol violation reported by the server or a connection pooler', 'ambiguous'), startup: 'pooler' },
  '57014': { label: 'STATEMENT_TIMEOUT', domain: 'statement-timeout' },
  '25006': { label: 'READ_ONLY', domain: 'read-only' },
  '42P01': { label: 'UNDEFINED_TABLE' },
  '40001': { domain: 'conflict' },
  '40P01': { domain: 'conflict' },
};

/**
 * Node's certificate verification codes (OpenSSL X509_V_ERR_* names such as
 * SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, CERT_HAS_EXPIRED,
 * and ERR_TLS_CERT_ALTNAME_INVALID for a host name mismatch). A wrong CA or
 * host never heals by waiting, so these fail the start instead of reconnecting.
 */
const TLS_VERIFICATION = /^(CERT_|UNABLE_TO_|ERR_TLS_|HOSTNAME_MISMATCH$|INVALID_CA$|INVALID_PURPOSE$)|SELF_SIGNED/;

/** By the shape of the code, in order, when no exact code matched. */
const BY_PATTERN: readonly { readonly matches: (code: string) => boolean; readonly failure: DriverFailure }[] = [
  // A data exception: a value the request rules should have refused reached the database.
  { matches: (code) => /^22[0-9A-Z]{3}$/.test(code), failure: { domain: 'data' } },
  { matches: (code) => TLS_VERIFICATION.test(code), failure: { label: 'TLS_ERROR', startup: 'tls' } },
  { matches: (code) => /CERT|TLS|SSL/.test(code), failure: { label: 'TLS_ERROR' } },
  { matches: (code) => code.startsWith('08'), failure: LOST },
];

/**
 * slonik's driver throws a plain Error with no code when work continues on a
 * connection it is already destroying (its backend was terminated mid
 * transaction). It has no class or code to branch on, so this one match on
 * the message is deliberate; the test suite's termination chaos covers it.
 */
const DESTROYED_CLIENT_MESSAGES = new Set(['Client is pending destroy.', 'Client is pending release.']);

/** The error and its causes, checked structurally (socket errors come from Node internals, another realm under Jest). */
export function* causeChain(error: unknown): Generator<Error> {
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

/** True when any error in the cause chain has one of the given class names. */
export function hasErrorNamed(error: unknown, ...names: string[]): boolean {
  for (const e of causeChain(error)) {
    if (names.includes(e.constructor.name) || names.includes(e.name)) return true;
  }
  return false;
}

/** By the classes (and the one message) in the cause chain, in order, after the code. */
const BY_KIND: readonly { readonly matches: (error: unknown) => boolean; readonly failure: DriverFailure | ((error: unknown) => DriverFailure) }[] = [
  // slonik's driver rethrows 22P02 (invalid text representation) as an InvalidInputError that keeps neither
  // the code nor the cause, and its sql tag raises the same class for a value it cannot bind (NUL or a lone
  // surrogate in JSON): both are input the request rules should have refused, so a data exception too.
  { matches: (error) => hasErrorNamed(error, 'InvalidInputError'), failure: { domain: 'data', code: '22P02' } },
  // A transaction rolled back because a prepared statement went stale after DDL (preparedStatements.ts): safe to run again.
  { matches: (error) => hasErrorNamed(error, 'StalePreparedStatementError'), failure: { domain: 'conflict' } },
  { matches: (error) => hasErrorNamed(error, 'StatementTimeoutError'), failure: { label: 'STATEMENT_TIMEOUT', domain: 'statement-timeout' } },
  { matches: (error) => hasErrorNamed(error, 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError'), failure: LOST },
  {
    matches: (error) => [...causeChain(error)].some((e) => DESTROYED_CLIENT_MESSAGES.has(e.message)),
    failure: { domain: LOST.domain, problem: LOST.problem, retry: LOST.retry },
  },
  // Already a domain error (the label view only): it keeps its own reason.
  { matches: (error) => error instanceof DomainError, failure: (error) => ({ reason: (error as DomainError).reason }) },
  // slonik raises ConnectionError when it could not obtain a connection: nothing ran.
  { matches: (error) => hasErrorNamed(error, 'ConnectionError'), failure: unavailable('CONNECTION_FAILED', 'could not connect', 'safe') },
];

/** Every row that matches `error`, most specific first; each view takes the first row that has its field. */
export function* driverFailures(error: unknown): Generator<DriverFailure> {
  const code = driverCode(error);
  if (code !== undefined) {
    const exact = BY_CODE[code];
    if (exact !== undefined) yield { ...exact, code };
    for (const pattern of BY_PATTERN) if (pattern.matches(code)) yield { ...pattern.failure, code };
  }
  for (const kind of BY_KIND) {
    if (kind.matches(error)) yield { code, ...(typeof kind.failure === 'function' ? kind.failure(error) : kind.failure) };
  }
}

/** The first matching row that says `field`. */
export function firstFailure<K extends keyof DriverFailure>(error: unknown, field: K): DriverFailure | undefined {
  for (const failure of driverFailures(error)) if (failure[field] !== undefined) return failure;
  return undefined;
}

/** The label view: the first row with a label (or a domain error's own reason). */
export function firstLabel(error: unknown): string | undefined {
  for (const failure of driverFailures(error)) {
    const label = failure.label ?? failure.reason;
    if (label !== undefined) return label;
  }
  return undefined;
}
