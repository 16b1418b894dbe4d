import { status } from '@grpc/grpc-js';
import { AlreadyExistsError, FailedPreconditionError, UnavailableError, ValidationError } from '../src/domain/errors';
import { Profile, Role } from '../src/generated/coaching/v1/profile';
import { toStatus } from '../src/grpc/errorStatus';
import { expectError, statusDetails } from './support/errorDetails';
import { useHarness } from './support/harness';

const h = useHarness();

/** What a client receives for a status the server produced, without a network in between. */
function received(mapped: ReturnType<typeof toStatus>) {
  return statusDetails(Object.assign(new Error(mapped.details), { code: mapped.code, details: mapped.details, metadata: mapped.metadata }));
}

describe('the translation table (toStatus)', () => {
  it('packs ErrorInfo with the reason and metadata, and BadRequest with every field violation', () => {
    const invalid = received(
      toStatus(
        new ValidationError([
          { field: 'a', description: 'is required' },
          { field: 'b.c', description: 'must be short' },
        ]),
        'cid',
      ),
    );
    expect(invalid.status).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'a: is required; b.c: must be short' });
    expect(invalid.errorInfo).toEqual({ reason: 'INVALID_ARGUMENT', domain: 'coaching.v1', metadata: {} });
    expect(invalid.badRequest?.fieldViolations.map(({ field, description }) => ({ field, description }))).toEqual([
      { field: 'a', description: 'is required' },
      { field: 'b.c', description: 'must be short' },
    ]);

    const precondition = received(toStatus(new FailedPreconditionError('DOUBLE_BOOKED', 'taken', { metadata: { booked: 'coach' } }), 'cid'));
    expect(precondition.errorInfo).toEqual({ reason: 'DOUBLE_BOOKED', domain: 'coaching.v1', metadata: { booked: 'coach' } });
    expect(precondition.badRequest).toBeUndefined();
    expect(received(toStatus(new AlreadyExistsError('EMAIL_TAKEN', 'taken'), 'cid')).status.code).toBe(status.ALREADY_EXISTS);
  });

  it('adds RetryInfo when the retry delay is known', () => {
    const unavailable = received(toStatus(new UnavailableError('DATABASE_UNAVAILABLE', 'down', { retryAfterMs: 1500 }), 'cid'));
    expect(unavailable.status.code).toBe(status.UNAVAILABLE);
    expect(unavailable.retryInfo).toEqual({ retryDelay: { seconds: '1', nanos: 500_000_000 } });
  });

  it('reveals nothing of an unknown error but the correlation id', () => {
    const mapped = toStatus(new Error('select * from secrets where password = hunter2'), 'corr-42');
    const internal = received(mapped);
    expect(internal.status).toMatchObject({ code: status.INTERNAL, message: 'internal error (correlation id corr-42)' });
    expect(internal.errorInfo).toEqual({ reason: 'INTERNAL', domain: 'coaching.v1', metadata: { correlation_id: 'corr-42' } });
    expect(JSON.stringify(internal)).not.toContain('hunter2');
  });
});

describe('over the wire', () => {
  it('carries BadRequest with every violation of an invalid request, next to x-error-reason', async () => {
    const profile = Profile.fromPartial({ role: Role.ROLE_UNSPECIFIED, email: 'nope', displayName: '', timezone: 'Mars/Base' });
    const result = await h.api.call('createProfile', { profile, requestId: 'not-a-uuid' });
    const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'profile.role',
      'profile.email',
      'profile.display_name',
      'profile.timezone',
      'request_id',
    ]);
    expect(badRequest?.fieldViolations.every((v) => v.description !== '')).toBe(true);
  });

  it('gives existing profile errors their reasons too', async () => {
    const email = `taken-${Date.now()}@example.com`;
    const profile = Profile.fromPartial({ role: Role.ROLE_COACH, email, displayName: 'Taken', timezone: 'UTC' });
    await h.api.ok('createProfile', { profile, requestId: '' });
    expectError(await h.api.call('createProfile', { profile, requestId: '' }), status.ALREADY_EXISTS, 'EMAIL_TAKEN');
    const missing = await h.api.call('getProfile', { id: '00000000-0000-4000-8000-000000000000' });
    expect(expectError(missing, status.NOT_FOUND, 'NOT_FOUND').errorInfo?.metadata).toEqual({
      resource: 'profile',
      id: '00000000-0000-4000-8000-000000000000',
    });
  });

  it('turns an unexpected database failure into INTERNAL with the correlation id, and no SQL', async () => {
    await h.db.query(`alter table profiles add constraint test_no_boom check (display_name <> 'Boom') not valid`);
    try {
      const profile = Profile.fromPartial({ role: Role.ROLE_COACH, email: `boom-${Date.now()}@example.com`, displayName: 'Boom', timezone: 'UTC' });
      const result = await h.api.call('createProfile', { profile, requestId: '' }, { metadata: { 'x-request-id': 'boom-1' } });
      const { errorInfo, status: rpcStatus } = expectError(result, status.INTERNAL, 'INTERNAL');
      expect(errorInfo?.metadata).toEqual({ correlation_id: 'boom-1' });
      expect(rpcStatus.message).toBe('internal error (correlation id boom-1)');
    } finally {
      await h.db.query('alter table profiles drop constraint test_no_boom');
    }
  });
});
