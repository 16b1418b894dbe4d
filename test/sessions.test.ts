import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import { ListSessionsRequest } from '../src/generated/coaching/v1/coaching_service';
import { Session, SessionStatus } from '../src/generated/coaching/v1/session';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { at, atDate } from './support/world';

const h = useHarness();

const sessionsOf = (participantId: string) => h.db.query('select id, status from sessions where participant_id = $1 order by scheduled_start', [participantId]);

describe('create, get, update, delete', () => {
  it('schedules a session and reads it back; status is SCHEDULED whatever the request says', async () => {
    const { coach, participant, program } = await h.w.enrolled();
    const draft = Session.fromPartial({
      programId: program.id,
      coachId: coach.id,
      participantId: participant.id,
      scheduledStart: at(1),
      durationMinutes: 45,
      notes: 'Kick-off',
      status: SessionStatus.SESSION_STATUS_COMPLETED,
    });
    const created = (await h.api.ok('createSession', { session: draft, requestId: '' })).session!;
    expect(created).toMatchObject({ scheduledStart: at(1), durationMinutes: 45, notes: 'Kick-off', status: SessionStatus.SESSION_STATUS_SCHEDULED });
    expect(created.completedTime).toBeUndefined();
    expect((await h.api.ok('getSession', { id: created.id })).session).toEqual(created);

    const moved = (await h.api.ok('updateSession', { session: { ...created, scheduledStart: at(2), notes: 'ignored' }, updateMask: ['scheduled_start'] }))
      .session!;
    expect(moved).toMatchObject({ scheduledStart: at(2), notes: 'Kick-off' });
    const cancelled = (await h.api.ok('updateSession', { session: { ...moved, status: SessionStatus.SESSION_STATUS_CANCELLED }, updateMask: ['status'] }))
      .session!;
    expect(cancelled.status).toBe(SessionStatus.SESSION_STATUS_CANCELLED);
    await h.api.ok('deleteSession', { id: created.id, etag: cancelled.etag });
    expect(await sessionsOf(participant.id)).toEqual([]);
  });

  it('validates fields with INVALID_ARGUMENT and field violations, writing nothing', async () => {
    const { coach, participant, program } = await h.w.enrolled();
    const valid = { programId: program.id, coachId: coach.id, participantId: participant.id, scheduledStart: at(3), durationMinutes: 60 };
    const cases: [Partial<Session>, string[]][] = [
      [{ scheduledStart: undefined }, ['session.scheduled_start']],
      [{ durationMinutes: 0 }, ['session.duration_minutes']],
      [{ durationMinutes: 4 }, ['session.duration_minutes']],
      [{ durationMinutes: 481 }, ['session.duration_minutes']],
      [{ notes: 'n'.repeat(5001) }, ['session.notes']],
      [{ programId: '', coachId: 'x' }, ['session.program_id', 'session.coach_id']],
    ];
    const before = await h.counts();
    for (const [fields, expected] of cases) {
      const result = await h.api.call('createSession', { session: Session.fromPartial({ ...valid, ...fields }), requestId: '' });
      expect(expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual(expected);
    }
    expect(await h.counts()).toEqual(before);
  });

  it('refuses COMPLETED through UpdateSession, and schedule changes or deletion of a completed session', async () => {
    const { book } = await h.w.enrolled();
    const session = await book(at(5));
    const viaUpdate = await h.api.call('updateSession', { session: { ...session, status: SessionStatus.SESSION_STATUS_COMPLETED }, updateMask: ['status'] });
    expect(expectError(viaUpdate, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations[0]?.field).toBe('session.status');

    const done = (await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId: '', notes: '' })).session!;
    const move = await h.api.call('updateSession', { session: { ...done, scheduledStart: at(6) }, updateMask: ['scheduled_start'] });
    expectError(move, status.FAILED_PRECONDITION, 'SESSION_COMPLETED');
    const del = await h.api.call('deleteSession', { id: done.id, etag: done.etag });
    expectError(del, status.FAILED_PRECONDITION, 'SESSION_COMPLETED');
    expect((await h.api.ok('getSession', { id: done.id })).session).toEqual(done);
    // Notes stay editable.
    const annotated = await h.api.ok('updateSession', { session: { ...done, notes: 'Follow up on goals' }, updateMask: ['notes'] });
    expect(annotated.session).toMatchObject({ notes: 'Follow up on goals', status: SessionStatus.SESSION_STATUS_COMPLETED });
  });
});

describe('who may be booked', () => {
  it('needs a COACH, a PARTICIPANT, an existing program and an enrollment that is not WITHDRAWN', async () => {
    const { coach, participant, program, enrollment } = await h.w.enrolled();
    const stranger = await h.w.participant('Stranger');
    const base = { programId: program.id, coachId: coach.id, participantId: participant.id, scheduledStart: at(10), durationMinutes: 30 };
    const attempt = (fields: Partial<Session>) => h.api.call('createSession', { session: Session.fromPartial({ ...base, ...fields }), requestId: '' });
    const before = await h.counts();

    expectError(await attempt({ coachId: participant.id, participantId: stranger.id }), status.FAILED_PRECONDITION, 'NOT_A_COACH');
    expectError(await attempt({ participantId: coach.id }), status.FAILED_PRECONDITION, 'NOT_A_PARTICIPANT');
    expectError(await attempt({ coachId: randomUUID() }), status.FAILED_PRECONDITION, 'COACH_NOT_FOUND');
    expectError(await attempt({ participantId: randomUUID() }), status.FAILED_PRECONDITION, 'PARTICIPANT_NOT_FOUND');
    expectError(await attempt({ programId: randomUUID() }), status.FAILED_PRECONDITION, 'PROGRAM_NOT_FOUND');
    expectError(await attempt({ participantId: stranger.id }), status.FAILED_PRECONDITION, 'NOT_ENROLLED');

    await h.api.ok('updateEnrollment', { enrollment: { ...enrollment, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] });
    expectError(await attempt({}), status.FAILED_PRECONDITION, 'ENROLLMENT_WITHDRAWN');
    expect(await h.counts()).toEqual(before);
  });

  it('refuses to book into a COMPLETED enrollment (FAILED_PRECONDITION, ENROLLMENT_COMPLETED), and writes nothing', async () => {
    const { coach, participant, program, book } = await h.w.enrolled(1);
    const only = await book(at(20));
    await h.api.ok('completeSession', { id: only.id, etag: only.etag, requestId: '', notes: '' });
    const progress = await h.api.ok('getProgramProgress', { participantId: participant.id, programId: program.id });
    expect(progress.progress?.enrollment?.status).toBe(EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED);
    const before = await h.counts();
    const result = await h.api.call('createSession', {
      session: Session.fromPartial({ programId: program.id, coachId: coach.id, participantId: participant.id, scheduledStart: at(21), durationMinutes: 30 }),
      requestId: '',
    });
    const { errorInfo } = expectError(result, status.FAILED_PRECONDITION, 'ENROLLMENT_COMPLETED');
    expect(errorInfo?.metadata).toMatchObject({ enrollment_id: progress.progress!.enrollment!.id });
    expect(await h.counts()).toEqual(before);
  });

  it('has the database refuse a session outside an enrollment or with a non-coach, whatever the service checks', async () => {
    const { coach, participant, program } = await h.w.enrolled();
    const stranger = await h.w.participant();
    const insert = (coachId: string, participantId: string) =>
      h.db.query(`insert into sessions (program_id, coach_id, participant_id, scheduled_start, duration_minutes) values ($1, $2, $3, $4, 30)`, [
        program.id,
        coachId,
        participantId,
        atDate(11),
      ]);
    await expect(insert(coach.id, stranger.id)).rejects.toMatchObject({ code: '23503', constraint: 'sessions_enrollment_fkey' });
    await expect(insert(stranger.id, participant.id)).rejects.toMatchObject({ code: '23503', constraint: 'sessions_coach_fkey' });
  });
});

describe('double booking', () => {
  it('refuses overlapping sessions of the same coach or participant, allows back-to-back and cancelled ones', async () => {
    const a = await h.w.enrolled();
    // A second participant of the same coach, and a second coach for participant a.
    const other = await h.w.participant('Other');
    await h.w.enroll(other.id, a.program.id);
    const secondCoach = await h.w.coach('Second');

    const first = await a.book(at(20), 60);
    const coachClash = await h.api.call('createSession', {
      session: Session.fromPartial({ programId: a.program.id, coachId: a.coach.id, participantId: other.id, scheduledStart: at(20.5), durationMinutes: 60 }),
      requestId: '',
    });
    expect(expectError(coachClash, status.FAILED_PRECONDITION, 'DOUBLE_BOOKED').errorInfo?.metadata).toEqual({ booked: 'coach' });
    const participantClash = await h.api.call('createSession', {
      session: Session.fromPartial({
        programId: a.program.id,
        coachId: secondCoach.id,
        participantId: a.participant.id,
        scheduledStart: at(19.5),
        durationMinutes: 31,
      }),
      requestId: '',
    });
    expect(expectError(participantClash, status.FAILED_PRECONDITION, 'DOUBLE_BOOKED').errorInfo?.metadata).toEqual({ booked: 'participant' });
    expect(await sessionsOf(other.id)).toEqual([]);
    expect(await sessionsOf(a.participant.id)).toEqual([{ id: first.id, status: 'SCHEDULED' }]);

    // Back-to-back on both sides is fine: [start, end) ranges.
    await a.book(at(21), 30);
    await a.book(at(19), 60);

    // Cancelling frees the slot; un-cancelling into a taken slot is refused.
    const cancelled = (await h.api.ok('updateSession', { session: { ...first, status: SessionStatus.SESSION_STATUS_CANCELLED }, updateMask: ['status'] }))
      .session!;
    const replacement = await a.book(at(20), 60);
    const revive = await h.api.call('updateSession', { session: { ...cancelled, status: SessionStatus.SESSION_STATUS_SCHEDULED }, updateMask: ['status'] });
    expectError(revive, status.FAILED_PRECONDITION, 'DOUBLE_BOOKED');
    expect((await h.api.ok('getSession', { id: first.id })).session).toEqual(cancelled);

    // Rescheduling into a taken slot, or growing into one, is refused.
    const move = await h.api.call('updateSession', { session: { ...replacement, durationMinutes: 90 }, updateMask: ['duration_minutes'] });
    expectError(move, status.FAILED_PRECONDITION, 'DOUBLE_BOOKED');
    expect((await h.api.ok('getSession', { id: replacement.id })).session).toEqual(replacement);
  });

  it('lets exactly one of many concurrent overlapping bookings win, enforced by the database', async () => {
    const { coach, program } = await h.w.enrolled();
    const participants = [];
    for (let i = 0; i < 8; i++) {
      const p = await h.w.participant(`P${i}`);
      await h.w.enroll(p.id, program.id);
      participants.push(p);
    }
    // Eight different participants want the same coach at overlapping times.
    const results = await Promise.all(
      participants.map((p, i) =>
        h.api.call('createSession', {
          session: Session.fromPartial({
            programId: program.id,
            coachId: coach.id,
            participantId: p.id,
            scheduledStart: at(30 + i * 0.1),
            durationMinutes: 60,
          }),
          requestId: '',
        }),
      ),
    );
    expect(results.filter((r) => r.error === undefined)).toHaveLength(1);
    for (const r of results.filter((r) => r.error !== undefined)) expectError(r, status.FAILED_PRECONDITION, 'DOUBLE_BOOKED');
    expect(await h.db.query('select id from sessions where coach_id = $1', [coach.id])).toHaveLength(1);
  });

  it('is a database rule: overlapping inserts fail with the exclusion constraint, cancelled rows do not count', async () => {
    const { coach, participant, program } = await h.w.enrolled();
    const insert = (start: Date, state = 'SCHEDULED') =>
      h.db.query(`insert into sessions (program_id, coach_id, participant_id, scheduled_start, duration_minutes, status) values ($1, $2, $3, $4, 60, $5)`, [
        program.id,
        coach.id,
        participant.id,
        start,
        state,
      ]);
    await insert(atDate(35));
    await expect(insert(atDate(35.5))).rejects.toMatchObject({ code: '23P01', constraint: 'sessions_coach_no_overlap' });
    await insert(atDate(35.5), 'CANCELLED');
    await insert(atDate(36));
  });

  it('creates one session for parallel calls with one request_id (no DOUBLE_BOOKED with itself)', async () => {
    const { coach, participant, program } = await h.w.enrolled();
    const requestId = randomUUID();
    const session = Session.fromPartial({
      programId: program.id,
      coachId: coach.id,
      participantId: participant.id,
      scheduledStart: at(40),
      durationMinutes: 60,
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => h.api.call('createSession', { session, requestId })));
    expect(results.map((r) => r.error?.code)).toEqual(Array(10).fill(undefined));
    expect(new Set(results.map((r) => r.response!.session!.id)).size).toBe(1);
    expect(await sessionsOf(participant.id)).toHaveLength(1);
  });
});

describe('listing', () => {
  it('orders by scheduled_start then id, filters, and pages within a time range', async () => {
    const a = await h.w.enrolled();
    const b = await h.w.enrolled();
    const starts = [50, 47, 49, 48, 51];
    const booked = [];
    for (const h of starts) booked.push(await a.book(at(h), 30));
    await b.book(at(48), 30);
    const cancelled = booked[1]!;
    await h.api.ok('updateSession', { session: { ...cancelled, status: SessionStatus.SESSION_STATUS_CANCELLED }, updateMask: ['status'] });

    const listCall = (fields: Partial<ListSessionsRequest>) => h.api.call('listSessions', ListSessionsRequest.fromPartial(fields));
    const list = (fields: Partial<ListSessionsRequest>) => h.api.ok('listSessions', ListSessionsRequest.fromPartial(fields));
    const byProgram = await list({ programId: a.program.id });
    expect(byProgram.sessions.map((s) => s.scheduledStart)).toEqual([47, 48, 49, 50, 51].map(at));
    expect((await list({ coachId: b.coach.id })).sessions).toHaveLength(1);
    expect((await list({ participantId: a.participant.id, status: SessionStatus.SESSION_STATUS_CANCELLED })).sessions.map((s) => s.id)).toEqual([cancelled.id]);

    // [48, 50) of participant a, one per page.
    const seen = [];
    let pageToken = '';
    do {
      const page = await list({ participantId: a.participant.id, scheduledStartFrom: at(48), scheduledStartUntil: at(50), pageSize: 1, pageToken });
      seen.push(...page.sessions.map((s) => s.scheduledStart));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual([at(48), at(49)]);

    const empty = await listCall({ scheduledStartFrom: at(50), scheduledStartUntil: at(50) });
    expect(expectError(empty, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations[0]?.field).toBe('scheduled_start_until');
  });
});
