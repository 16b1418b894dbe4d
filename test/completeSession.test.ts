import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import { SessionStatus } from '../src/generated/coaching/v1/session';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { at } from './support/world';
import { ms } from './support/timestamps';

const h = useHarness();

/** The committed rows CompleteSession touches, as the database holds them. */
async function rows(sessionId: string, enrollmentId: string) {
  const [session] = await h.db.query('select status, completed_time, notes, version, update_time from sessions where id = $1', [sessionId]);
  const [enrollment] = await h.db.query(
    'select status, completed_sessions, progress_percent, last_activity_time, version, update_time from enrollments where id = $1',
    [enrollmentId],
  );
  return { session, enrollment };
}
const keyStored = async (requestId: string) => (await h.db.query('select 1 from idempotency_keys where request_id = $1', [requestId])).length === 1;

describe('CompleteSession', () => {
  it('marks the session COMPLETED and counts it in the enrollment, in one call', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(1));
    const done = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: 'Set three goals' });
    expect(done.session).toMatchObject({ id: session.id, status: SessionStatus.SESSION_STATUS_COMPLETED, notes: 'Set three goals' });
    expect(ms(done.session!.completedTime)).toBeGreaterThan(0);
    expect(done.session!.etag).not.toBe(session.etag);
    expect(done.enrollment).toMatchObject({ id: enrollment.id, completedSessions: 1, progressPercent: 33, status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE });
    expect(ms(done.enrollment!.lastActivityTime)).toBeGreaterThan(ms(enrollment.lastActivityTime));
    expect((await h.api.ok('getSession', { id: session.id })).session).toEqual(done.session);
    expect((await h.api.ok('getEnrollment', { id: enrollment.id })).enrollment).toEqual(done.enrollment);
  });

  it('keeps the notes when none are given', async () => {
    const { book } = await h.w.enrolled(3);
    const session = await book(at(2));
    await h.api.ok('updateSession', { session: { ...session, notes: 'Agenda' }, updateMask: ['notes'] });
    const current = (await h.api.ok('getSession', { id: session.id })).session!;
    const done = await h.api.ok('completeSession', { id: session.id, etag: current.etag, requestId: '', notes: '' });
    expect(done.session!.notes).toBe('Agenda');
  });

  it('returns the original result to a retry with the same request_id and counts the session once', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(3));
    const requestId = randomUUID();
    const first = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' });
    // Someone else changes the enrollment meanwhile; the retry still gets the original answer.
    await h.api.ok('updateEnrollment', { enrollment: { ...first.enrollment!, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] });
    const retry = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' });
    expect(retry).toEqual(first);
    const [row] = await h.db.query<{ completed_sessions: number }>('select completed_sessions from enrollments where id = $1', [enrollment.id]);
    expect(row!.completed_sessions).toBe(1);
    // Without a request_id the same retry is a stale write.
    expectError(await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: '', notes: '' }), status.ABORTED, 'ETAG_MISMATCH');
    // The same request_id with another payload is refused.
    const reuse = await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId, notes: 'different' });
    expectError(reuse, status.ALREADY_EXISTS, 'REQUEST_ID_REUSED');
  });

  it('counts once for many parallel calls with one request_id, and answers all of them alike', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(4));
    const requestId = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => h.api.call('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' })),
    );
    expect(results.map((r) => r.error?.code)).toEqual(Array(12).fill(undefined));
    for (const r of results) expect(r.response).toEqual(results[0]!.response);
    const { enrollment: row } = await rows(session.id, enrollment.id);
    expect(row).toMatchObject({ completed_sessions: 1, progress_percent: 33, version: 2 });
  });

  it('never loses an increment when sessions of one enrollment complete concurrently, and never counts past total_sessions', async () => {
    const { enrollment, book } = await h.w.enrolled(10);
    const sessions = [];
    for (let i = 0; i < 12; i++) sessions.push(await book(at(10 + i)));
    const results = await Promise.all(sessions.map((s) => h.api.call('completeSession', { id: s.id, etag: s.etag, requestId: randomUUID(), notes: '' })));
    const done = results.filter((r) => r.error === undefined);
    // Each successful call saw a distinct count: 1..10, in some order; the two beyond the program's 10 were refused.
    expect(done.map((r) => r.response!.enrollment!.completedSessions).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const refused = results.filter((r) => r.error !== undefined);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(expectError(r, status.FAILED_PRECONDITION, 'ENROLLMENT_COMPLETED').errorInfo?.metadata).toEqual({
        enrollment_id: enrollment.id,
        completed_sessions: '10',
        total_sessions: '10',
      });
    }
    const [row] = await h.db.query('select status, completed_sessions, progress_percent, version from enrollments where id = $1', [enrollment.id]);
    // COMPLETED at the 10th; every counted completion bumped the version once.
    expect(row).toEqual({ status: 'COMPLETED', completed_sessions: 10, progress_percent: 100, version: 11 });
    // The refused sessions stay SCHEDULED (they may still be cancelled or marked a no-show).
    expect(await h.db.query(`select count(*)::int as n from sessions where program_id = $1 and status = 'SCHEDULED'`, [enrollment.programId])).toEqual([
      { n: 2 },
    ]);
  });

  it('refuses sessions that are not SCHEDULED, stale etags, unknown ids and bad arguments, changing nothing', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(30));
    const cancelled = (await h.api.ok('updateSession', { session: { ...session, status: SessionStatus.SESSION_STATUS_CANCELLED }, updateMask: ['status'] }))
      .session!;
    const before = await rows(session.id, enrollment.id);
    const notScheduled = await h.api.call('completeSession', { id: session.id, etag: cancelled.etag, requestId: randomUUID(), notes: '' });
    expect(expectError(notScheduled, status.FAILED_PRECONDITION, 'SESSION_NOT_SCHEDULED').errorInfo?.metadata).toEqual({ status: 'CANCELLED' });
    expectError(await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: '', notes: '' }), status.ABORTED, 'ETAG_MISMATCH');
    expectError(await h.api.call('completeSession', { id: randomUUID(), etag: session.etag, requestId: '', notes: '' }), status.NOT_FOUND, 'NOT_FOUND');
    const bad = await h.api.call('completeSession', { id: 'x', etag: '', requestId: 'y', notes: 'n'.repeat(5001) });
    expect(expectError(bad, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'id',
      'etag',
      'request_id',
      'notes',
    ]);
    expect(await rows(session.id, enrollment.id)).toEqual(before);
  });

  it('refuses to count toward a WITHDRAWN enrollment, and leaves the session SCHEDULED', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(40));
    await h.api.ok('updateEnrollment', { enrollment: { ...enrollment, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] });
    const before = await rows(session.id, enrollment.id);
    const requestId = randomUUID();
    const result = await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId, notes: 'should not stick' });
    expectError(result, status.FAILED_PRECONDITION, 'ENROLLMENT_WITHDRAWN');
    // Nothing was written: not the session, not the request_id.
    expect(await rows(session.id, enrollment.id)).toEqual(before);
    expect(await keyStored(requestId)).toBe(false);
  });
});

describe('CompleteSession atomicity under forced database failures', () => {
  it('rolls the session back when the enrollment update fails after it', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(50));
    // Arranged state: this enrollment may not count a session, so the second statement fails.
    await h.db.query(`alter table enrollments add constraint test_refuse_progress check (id <> '${enrollment.id}' or completed_sessions = 0) not valid`);
    const before = await rows(session.id, enrollment.id);
    const requestId = randomUUID();
    try {
      const failed = await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId, notes: 'lost' });
      const { errorInfo } = expectError(failed, status.INTERNAL, 'INTERNAL');
      expect(failed.error!.details).not.toMatch(/constraint|enrollments|select|update/i);
      expect(errorInfo?.metadata.correlation_id).toEqual(expect.any(String));
      // The service log shows the failure came from the enrollment statement, i.e. after the session's.
      const logged = h.svc.logs.records().find((r) => r.correlationId === errorInfo?.metadata.correlation_id && r.msg === 'rpc finished');
      expect(JSON.stringify(logged)).toContain('test_refuse_progress');
      expect(await rows(session.id, enrollment.id)).toEqual(before);
      expect(await keyStored(requestId)).toBe(false);
    } finally {
      await h.db.query('alter table enrollments drop constraint test_refuse_progress');
    }
    // Once the obstacle is gone the same request goes through, counted once.
    const done = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: 'kept' });
    expect(done.enrollment!.completedSessions).toBe(1);
    expect(done.session!.notes).toBe('kept');
  });

  it('rolls both tables back when the failure comes at commit, after both statements ran', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(60));
    await h.db.query(`create function test_fail_at_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`);
    await h.db.query(
      `create constraint trigger test_fail_at_commit after update on enrollments deferrable initially deferred
       for each row when (new.id = '${enrollment.id}') execute function test_fail_at_commit()`,
    );
    const before = await rows(session.id, enrollment.id);
    const requestId = randomUUID();
    try {
      const failed = await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId, notes: 'lost' });
      expectError(failed, status.INTERNAL, 'INTERNAL');
      expect(await rows(session.id, enrollment.id)).toEqual(before);
      expect(await keyStored(requestId)).toBe(false);
    } finally {
      await h.db.query('drop trigger test_fail_at_commit on enrollments');
      await h.db.query('drop function test_fail_at_commit()');
    }
  });
});
