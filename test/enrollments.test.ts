import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Enrollment, EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import { ProgramStatus } from '../src/generated/coaching/v1/program';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { ts } from './support/timestamps';

const h = useHarness();

const enroll = (participantId: string, programId: string, requestId = '') =>
  h.api.call('createEnrollment', { enrollment: Enrollment.fromPartial({ participantId, programId }), requestId });

describe('create, get, update, delete', () => {
  it('enrolls a participant as ACTIVE with no progress, withdraws and reactivates', async () => {
    const coach = await h.w.coach();
    const participant = await h.w.participant();
    const program = await h.w.program(coach.id, { totalSessions: 4 });
    const created = (await enroll(participant.id, program.id)).response!.enrollment!;
    expect(created).toMatchObject({
      participantId: participant.id,
      programId: program.id,
      status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE,
      completedSessions: 0,
      progressPercent: 0,
    });
    expect(created.lastActivityTime).toEqual(created.createTime);
    expect((await h.api.ok('getEnrollment', { id: created.id })).enrollment).toEqual(created);

    const withdrawn = (
      await h.api.ok('updateEnrollment', { enrollment: { ...created, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] })
    ).enrollment!;
    expect(withdrawn.status).toBe(EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN);
    const back = (
      await h.api.ok('updateEnrollment', { enrollment: { ...withdrawn, status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE }, updateMask: ['status'] })
    ).enrollment!;
    expect(back.status).toBe(EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE);

    const completing = await h.api.call('updateEnrollment', {
      enrollment: { ...back, status: EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED },
      updateMask: ['status'],
    });
    expect(expectError(completing, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations[0]?.field).toBe('enrollment.status');
    const stale = await h.api.call('deleteEnrollment', { id: created.id, etag: created.etag, force: false });
    expectError(stale, status.ABORTED, 'ETAG_MISMATCH');
    await h.api.ok('deleteEnrollment', { id: created.id, etag: back.etag, force: false });
    expectError(await h.api.call('getEnrollment', { id: created.id }), status.NOT_FOUND, 'NOT_FOUND');
  });

  it('keeps a COMPLETED enrollment COMPLETED', async () => {
    const { enrollment, book } = await h.w.enrolled(1);
    const session = await book(ts(Date.UTC(2031, 1, 1)));
    const done = (await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId: '', notes: '' })).enrollment!;
    expect(done.status).toBe(EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED);
    const withdraw = await h.api.call('updateEnrollment', {
      enrollment: { ...done, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN },
      updateMask: ['status'],
    });
    expectError(withdraw, status.FAILED_PRECONDITION, 'ENROLLMENT_COMPLETED');
    expect((await h.api.ok('getEnrollment', { id: enrollment.id })).enrollment).toEqual(done);
  });
});

describe('rules', () => {
  it('needs a PARTICIPANT and an ACTIVE program, and writes nothing otherwise', async () => {
    const coach = await h.w.coach();
    const participant = await h.w.participant();
    const active = await h.w.program(coach.id);
    const draft = await h.w.program(coach.id, { status: ProgramStatus.PROGRAM_STATUS_DRAFT });
    const archived = await h.w.program(coach.id, { status: ProgramStatus.PROGRAM_STATUS_ARCHIVED });
    const before = await h.counts();
    expectError(await enroll(coach.id, active.id), status.FAILED_PRECONDITION, 'NOT_A_PARTICIPANT');
    expectError(await enroll(randomUUID(), active.id), status.FAILED_PRECONDITION, 'PARTICIPANT_NOT_FOUND');
    expectError(await enroll(participant.id, randomUUID()), status.FAILED_PRECONDITION, 'PROGRAM_NOT_FOUND');
    expect(expectError(await enroll(participant.id, draft.id), status.FAILED_PRECONDITION, 'PROGRAM_NOT_ACTIVE').errorInfo?.metadata).toEqual({
      status: 'DRAFT',
    });
    expectError(await enroll(participant.id, archived.id), status.FAILED_PRECONDITION, 'PROGRAM_NOT_ACTIVE');
    const invalid = await enroll('bad', '');
    expect(expectError(invalid, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'enrollment.participant_id',
      'enrollment.program_id',
    ]);
    expect(await h.counts()).toEqual(before);
  });

  it('allows one enrollment per participant and program: ALREADY_EXISTS, also when many race', async () => {
    const coach = await h.w.coach();
    const participant = await h.w.participant();
    const program = await h.w.program(coach.id);
    const results = await Promise.all(Array.from({ length: 8 }, () => enroll(participant.id, program.id)));
    expect(results.filter((r) => r.error === undefined)).toHaveLength(1);
    for (const r of results.filter((r) => r.error !== undefined)) expectError(r, status.ALREADY_EXISTS, 'ENROLLMENT_EXISTS');
    expect(await h.db.query('select id from enrollments where participant_id = $1', [participant.id])).toHaveLength(1);
  });

  it('returns the first enrollment to retries with the same request_id', async () => {
    const coach = await h.w.coach();
    const participant = await h.w.participant();
    const program = await h.w.program(coach.id);
    const requestId = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => enroll(participant.id, program.id, requestId)));
    expect(results.map((r) => r.error?.code)).toEqual(Array(8).fill(undefined));
    expect(new Set(results.map((r) => r.response!.enrollment!.etag + r.response!.enrollment!.id)).size).toBe(1);
  });
});

describe('listing', () => {
  it('filters by participant, program and status, in creation order with paging', async () => {
    const coach = await h.w.coach();
    const participant = await h.w.participant();
    const programs = [];
    for (let i = 0; i < 4; i++) programs.push(await h.w.program(coach.id, { title: `P${i}` }));
    const enrollments = [];
    for (const p of programs) enrollments.push(await h.w.enroll(participant.id, p.id));
    const someoneElse = await h.w.participant();
    await h.w.enroll(someoneElse.id, programs[0]!.id);
    const withdrawn = enrollments[2]!;
    await h.api.ok('updateEnrollment', { enrollment: { ...withdrawn, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] });

    const seen = [];
    let pageToken = '';
    do {
      const page = await h.api.ok('listEnrollments', {
        pageSize: 3,
        pageToken,
        participantId: participant.id,
        programId: '',
        status: EnrollmentStatus.ENROLLMENT_STATUS_UNSPECIFIED,
      });
      seen.push(...page.enrollments.map((e) => e.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual(enrollments.map((e) => e.id));

    const ofProgram = await h.api.ok('listEnrollments', { pageSize: 10, pageToken: '', participantId: '', programId: programs[0]!.id, status: 0 });
    expect(ofProgram.enrollments.map((e) => e.participantId)).toEqual([participant.id, someoneElse.id]);
    const gone = await h.api.ok('listEnrollments', {
      pageSize: 10,
      pageToken: '',
      participantId: participant.id,
      programId: '',
      status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN,
    });
    expect(gone.enrollments.map((e) => e.id)).toEqual([withdrawn.id]);
  });
});
