/** The one driver failure table and its three views: the domain error, the metric/health label, the startup refusal. */
import { loadConfig } from '../src/config/config';
import { translateDriverError } from '../src/db/driverErrors';
import { databaseFailureCode } from '../src/db/failureCode';
import { explainConnectFailure } from '../src/db/prepareDatabase';
import { NotFoundError, UnavailableError } from '../src/domain/errors';

const config = loadConfig({ env: { APP_ENV: 'test', ENV_FILE: '/nonexistent/.env', DATABASE_URL: 'postgresql://svc@db.internal:5432/coaching' } });

/** A driver error as pg raises it: a code, maybe wrapped by slonik. */
function driverError(code: string, wrappedIn?: string): Error {
  const inner = Object.assign(new Error(`driver failure ${code}`), { code });
  if (wrappedIn === undefined) return inner;
  const outer = new Error('wrapped', { cause: inner });
  outer.name = wrappedIn;
  return outer;
}

const views = (error: unknown) => {
  const domain = translateDriverError(error);
  return {
    label: databaseFailureCode(error),
    reason: domain?.reason,
    retry: domain instanceof UnavailableError ? domain.retry : undefined,
    startup: explainConnectFailure(config, error).kind,
  };
};

it.each([
  ['28P01', { label: 'AUTH_FAILED', reason: 'DATABASE_AUTH_FAILED', retry: 'safe', startup: 'credentials' }],
  ['3D000', { label: 'DATABASE_NOT_FOUND', reason: undefined, retry: undefined, startup: 'database' }],
  ['ECONNREFUSED', { label: 'CONNECTION_REFUSED', reason: 'DATABASE_UNAVAILABLE', retry: 'safe', startup: 'unreachable' }],
  ['ETIMEDOUT', { label: 'CONNECT_TIMEOUT', reason: 'DATABASE_UNAVAILABLE', retry: 'ambiguous', startup: 'unreachable' }],
  ['ECONNRESET', { label: 'CONNECTION_LOST', reason: 'DATABASE_UNAVAILABLE', retry: 'ambiguous', startup: 'unreachable' }],
  ['53300', { label: 'TOO_MANY_CONNECTIONS', reason: 'DATABASE_UNAVAILABLE', retry: 'safe', startup: 'unreachable' }],
  ['08P01', { label: 'PROTOCOL_VIOLATION', reason: 'DATABASE_UNAVAILABLE', retry: 'ambiguous', startup: 'pooler' }],
  ['08999', { label: 'CONNECTION_LOST', reason: 'DATABASE_UNAVAILABLE', retry: 'ambiguous', startup: 'unreachable' }],
  ['25006', { label: 'READ_ONLY', reason: 'DATABASE_READ_ONLY', retry: undefined, startup: 'unreachable' }],
  ['57014', { label: 'STATEMENT_TIMEOUT', reason: 'DEADLINE_EXCEEDED', retry: undefined, startup: 'unreachable' }],
  ['40001', { label: 'OTHER', reason: 'TRANSACTION_CONFLICT', retry: undefined, startup: 'unreachable' }],
  ['22P05', { label: 'OTHER', reason: 'INVALID_ARGUMENT', retry: undefined, startup: 'unreachable' }],
  ['SELF_SIGNED_CERT_IN_CHAIN', { label: 'TLS_ERROR', reason: undefined, retry: undefined, startup: 'tls' }],
  ['ERR_SSL_WRONG_VERSION_NUMBER', { label: 'TLS_ERROR', reason: undefined, retry: undefined, startup: 'unreachable' }],
  ['23505', { label: 'OTHER', reason: undefined, retry: undefined, startup: 'unreachable' }],
])('code %s: one row, three views', (code, expected) => {
  expect(views(driverError(code))).toEqual(expected);
});

it('reads the code through the cause chain, and falls back on the class when there is none', () => {
  expect(views(driverError('ECONNREFUSED', 'ConnectionError'))).toMatchObject({ label: 'CONNECTION_REFUSED', reason: 'DATABASE_UNAVAILABLE' });
  // slonik's ConnectionError around a code that says nothing on the request path: nothing ran.
  expect(views(driverError('3D000', 'ConnectionError'))).toEqual({
    label: 'DATABASE_NOT_FOUND',
    reason: 'DATABASE_UNAVAILABLE',
    retry: 'safe',
    startup: 'database',
  });
  const terminated = new Error('terminated');
  terminated.name = 'BackendTerminatedError';
  expect(views(terminated)).toEqual({ label: 'CONNECTION_LOST', reason: 'DATABASE_UNAVAILABLE', retry: 'ambiguous', startup: 'unreachable' });
  const plain = new Error('Client is pending destroy.');
  expect(views(plain)).toMatchObject({ reason: 'DATABASE_UNAVAILABLE', retry: 'ambiguous' });
});

it('a domain error keeps its own reason as its label, and is not translated again', () => {
  const error = new NotFoundError('profile', 'p1');
  expect(databaseFailureCode(error)).toBe('NOT_FOUND');
  expect(translateDriverError(error)).toBeUndefined();
});

it('an error that is no driver failure is not translated, and its label is OTHER', () => {
  expect(translateDriverError(new Error('a bug'))).toBeUndefined();
  expect(databaseFailureCode(new Error('a bug'))).toBe('OTHER');
});
