import { createHash, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Enrollment } from '../src/generated/coaching/v1/enrollment';
import { Profile, Role } from '../src/generated/coaching/v1/profile';
import { Program, ProgramStatus } from '../src/generated/coaching/v1/program';
import { Session } from '../src/generated/coaching/v1/session';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { at } from './support/world';

/**
 * A request_id fingerprints the request it first came with. Requests that
 * mean the same (ids in another letter case, an etag written another way,
 * names the service trims) are the same request: the replay gets the stored
 * answer and writes nothing. A request that means something else is refused.
 */
const h = useHarness();

const stored = async (requestId: string) =>
  (await h.db.query<{ request_hash: string }>('select request_hash from idempotency_keys where request_id = $1', [requestId]))[0]?.request_hash;

describe('request_id fingerprints use canonical forms', () => {
  it('CompleteSession: a replay with an upper-case id and request_id, or the etag written with a leading zero, is the replay', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(1));
    const requestId = randomUUID();
    const first = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: 'Goals' });
    const before = await h.counts();
    for (const replay of [
      { id: session.id.toUpperCase(), etag: session.etag, requestId: requestId.toUpperCase(), notes: 'Goals' },
      { id: session.id, etag: session.etag.replace('v', 'v0'), requestId, notes: 'Goals' },
    ]) {
      expect(await h.api.ok('completeSession', replay)).toEqual(first);
    }
    expect(await h.counts()).toEqual(before);
    const [row] = await h.db.query('select completed_sessions, version from enrollments where id = $1', [enrollment.id]);
    expect(row).toEqual({ completed_sessions: 1, version: 2 });
    // Different notes, or another session, under the same request_id: a different request.
    const other = await book(at(2));
    for (const reuse of [
      { id: session.id.toUpperCase(), etag: session.etag, requestId, notes: 'Other goals' },
      { id: other.id, etag: other.etag, requestId, notes: 'Goals' },
    ]) {
      expectError(await h.api.call('completeSession', reuse), status.ALREADY_EXISTS, 'REQUEST_ID_REUSED');
    }
    expect((await h.api.ok('getSession', { id: other.id })).session!.etag).toBe(other.etag);
  });

  it('CompleteSession: a first call with an upper-case id is recognised by its lower-case replay', async () => {
    const { book } = await h.w.enrolled(3);
    const session = await book(at(3));
    const requestId = randomUUID();
    const first = await h.api.ok('completeSession', { id: session.id.toUpperCase(), etag: session.etag, requestId, notes: '' });
    expect(first.session!.id).toBe(session.id);
    expect(await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' })).toEqual(first);
  });

  it('keeps the fingerprint format of earlier versions, so a replay across an upgrade is still recognised', async () => {
    const { book } = await h.w.enrolled(3);
    const session = await book(at(4));
    const requestId = randomUUID();
    await h.api.ok('completeSession', { id: session.id.toUpperCase(), etag: session.etag, requestId, notes: 'n' });
    // What earlier versions stored for the request sent in canonical form: sha256 of its JSON.
    const legacy = createHash('sha256')
      .update(JSON.stringify({ id: session.id, etag: session.etag, notes: 'n' }))
      .digest('hex');
    expect(await stored(requestId)).toBe(legacy);
  });

  it('the create RPCs: replays with upper-case ids and untrimmed names are the replay; another body is refused', async () => {
    const coachId = (await h.w.coach()).id;
    const participant = await h.w.participant();

    const profileRequest = (displayName: string) => ({
      requestId: randomUUID(),
      profile: Profile.fromPartial({ role: Role.ROLE_PARTICIPANT, email: `fp-${randomUUID().slice(0, 8)}@example.com`, displayName, timezone: 'UTC' }),
    });
    const profile = profileRequest('Ada');
    const createdProfile = await h.api.ok('createProfile', profile);
    const padded = { ...profile, requestId: profile.requestId.toUpperCase(), profile: { ...profile.profile, displayName: '  Ada ' } };
    expect(await h.api.ok('createProfile', padded)).toEqual(createdProfile);
    expectError(
      await h.api.call('createProfile', { ...profile, profile: { ...profile.profile, displayName: 'Ada L.' } }),
      status.ALREADY_EXISTS,
      'REQUEST_ID_REUSED',
    );

    const programRequest = {
      requestId: randomUUID(),
      program: Program.fromPartial({ coachId, title: 'Feedback', totalSessions: 2, status: ProgramStatus.PROGRAM_STATUS_ACTIVE }),
    };
    const program = (await h.api.ok('createProgram', programRequest)).program!;
    const programReplay = { requestId: programRequest.requestId, program: { ...programRequest.program, coachId: coachId.toUpperCase(), title: ' Feedback ' } };
    expect((await h.api.ok('createProgram', programReplay)).program).toEqual(program);
    expectError(
      await h.api.call('createProgram', { ...programRequest, program: { ...programRequest.program, totalSessions: 3 } }),
      status.ALREADY_EXISTS,
      'REQUEST_ID_REUSED',
    );

    const enrollmentRequest = { requestId: randomUUID(), enrollment: Enrollment.fromPartial({ participantId: participant.id, programId: program.id }) };
    const enrollment = (await h.api.ok('createEnrollment', enrollmentRequest)).enrollment!;
    const enrollmentReplay = {
      requestId: enrollmentRequest.requestId,
      enrollment: Enrollment.fromPartial({ participantId: participant.id.toUpperCase(), programId: program.id.toUpperCase() }),
    };
    expect((await h.api.ok('createEnrollment', enrollmentReplay)).enrollment).toEqual(enrollment);

    const sessionFields = { programId: program.id, coachId, participantId: participant.id, scheduledStart: at(10), durationMinutes: 60 };
    const sessionRequest = { requestId: randomUUID(), session: Session.fromPartial(sessionFields) };
    const session = (await h.api.ok('createSession', sessionRequest)).session!;
    const before = await h.counts();
    const sessionReplay = {
      requestId: sessionRequest.requestId.toUpperCase(),
      session: Session.fromPartial({
        ...sessionFields,
        programId: program.id.toUpperCase(),
        coachId: coachId.toUpperCase(),
        participantId: participant.id.toUpperCase(),
      }),
    };
    expect((await h.api.ok('createSession', sessionReplay)).session).toEqual(session);
    expectError(
      await h.api.call('createSession', { ...sessionRequest, session: Session.fromPartial({ ...sessionFields, durationMinutes: 90 }) }),
      status.ALREADY_EXISTS,
      'REQUEST_ID_REUSED',
    );
    expect(await h.counts()).toEqual(before);
  });
});
