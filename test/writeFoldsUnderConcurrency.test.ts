/**
 * The folded writes of CreateSession and CompleteSession (issue 15: one
 * statement locks and writes) when a row they lock changes while they wait
 * for it: under READ COMMITTED the locking statement re-reads the rows it
 * locked at their latest version and re-checks its conditions (EvalPlanQual),
 * so each decision is made on what the other transaction committed, never
 * on the snapshot the statement started with.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { Session } from '../src/generated/coaching/v1/session';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { waitFor } from './support/waitFor';
import { at } from './support/world';

const h = useHarness();

/**
 * Runs `change` in an open transaction, starts `calls`, waits until `waiters`
 * backends wait on a lock, commits the change and returns the calls' results.
 */
async function afterConcurrentChange<T>(change: (holder: Client) => Promise<unknown>, calls: () => Promise<T>[], waiters = 1): Promise<T[]> {
  const holder = new Client({ connectionString: h.db.url, application_name: 'concurrent-change' });
  await holder.connect();
  try {
    await holder.query('begin');
    await change(holder);
    const pending = calls();
    await waitFor(`${waiters} call(s) to wait on the open change`, async () => {
      const rows = await h.db.query(
        `select 1 from pg_stat_activity where datname = current_database() and application_name <> 'concurrent-change' and wait_event_type = 'Lock'`,
      );
      return rows.length >= waiters;
    });
    await holder.query('commit');
    return await Promise.all(pending);
  } finally {
    await holder.query('rollback').catch(() => undefined);
    await holder.end();
  }
}

const withdraw = (enrollmentId: string) => (holder: Client) =>
  holder.query(`update enrollments set status = 'WITHDRAWN', version = version + 1 where id = $1`, [enrollmentId]);

it('CreateSession waiting for an enrollment withdrawn meanwhile refuses it and inserts nothing', async () => {
  const { coach, participant, program, enrollment } = await h.w.enrolled(3);
  const session = Session.fromPartial({ programId: program.id, coachId: coach.id, participantId: participant.id, scheduledStart: at(20), durationMinutes: 60 });
  const [result] = await afterConcurrentChange(withdraw(enrollment.id), () => [h.api.call('createSession', { session, requestId: randomUUID() })]);
  expectError(result!, status.FAILED_PRECONDITION, 'ENROLLMENT_WITHDRAWN');
  expect(await h.db.query('select 1 from sessions where participant_id = $1', [participant.id])).toHaveLength(0);
});

it('CompleteSession waiting for an enrollment withdrawn meanwhile refuses it and leaves the session SCHEDULED', async () => {
  const { enrollment, book } = await h.w.enrolled(3);
  const session = await book(at(22));
  const [result] = await afterConcurrentChange(withdraw(enrollment.id), () => [
    h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: '' }),
  ]);
  expectError(result!, status.FAILED_PRECONDITION, 'ENROLLMENT_WITHDRAWN');
  expect(await h.db.query('select status from sessions where id = $1', [session.id])).toEqual([{ status: 'SCHEDULED' }]);
});

it('CompleteSession waiting while its session changes refuses the old etag and counts nothing', async () => {
  const { enrollment, book } = await h.w.enrolled(3);
  const session = await book(at(24));
  const [result] = await afterConcurrentChange(
    async (holder) => {
      await holder.query('select 1 from enrollments where id = $1 for update', [enrollment.id]);
      await holder.query(`update sessions set notes = 'changed', version = version + 1 where id = $1`, [session.id]);
    },
    () => [h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: '' })],
  );
  expectError(result!, status.ABORTED, 'ETAG_MISMATCH');
  expect(await h.db.query('select completed_sessions from enrollments where id = $1', [enrollment.id])).toEqual([{ completed_sessions: 0 }]);
});

it('two completions queued on an enrollment with one session left: one counts, the other sees the new count', async () => {
  const { enrollment, book } = await h.w.enrolled(2);
  const first = await book(at(26));
  await h.api.ok('completeSession', { id: first.id, etag: first.etag, requestId: randomUUID(), notes: '' });
  const queued = [await book(at(28)), await book(at(30))];
  const results = await afterConcurrentChange(
    (holder) => holder.query('select 1 from enrollments where id = $1 for update', [enrollment.id]),
    () => queued.map((s) => h.api.call('completeSession', { id: s.id, etag: s.etag, requestId: randomUUID(), notes: '' })),
    2,
  );
  const refused = results.filter((r) => r.error !== undefined);
  expect(refused).toHaveLength(1);
  expectError(refused[0]!, status.FAILED_PRECONDITION, 'ENROLLMENT_COMPLETED');
  expect(await h.db.query('select completed_sessions, status from enrollments where id = $1', [enrollment.id])).toEqual([
    { completed_sessions: 2, status: 'COMPLETED' },
  ]);
});
