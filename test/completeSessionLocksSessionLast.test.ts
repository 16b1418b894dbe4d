import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SessionStatus } from '../src/generated/coaching/v1/session';
import { useHarness } from './support/harness';
import { waitFor } from './support/waitFor';
import { at } from './support/world';

const h = useHarness();

// CompleteSession locks the session in the same statement as its people and its enrollment
// (enrollmentRepository.lockProgressOfSession): the session's lock must come last (the lock order,
// lockOrder.ts). With the enrollment held elsewhere, the statement waits holding the people and not
// yet the session.
it('CompleteSession takes the session lock after the enrollment, in its one locking statement', async () => {
  const { coach, participant, enrollment, book } = await h.w.enrolled(3);
  const session = await book(at(3));
  const holder = new Client({ connectionString: h.db.url, application_name: 'enrollment-holder' });
  const probe = new Client({ connectionString: h.db.url });
  await Promise.all([holder.connect(), probe.connect()]);
  /** Whether the probe can lock `id` of `table` now (NOWAIT), rolled back at once. */
  const free = async (table: 'profiles' | 'sessions', id: string): Promise<boolean> => {
    await probe.query('begin');
    try {
      return await probe.query(`select 1 from ${table} where id = $1 for update nowait`, [id]).then(
        () => true,
        (e: { code?: string }) => {
          if (e.code === '55P03') return false;
          throw e;
        },
      );
    } finally {
      await probe.query('rollback');
    }
  };
  try {
    await holder.query('begin');
    await holder.query('select 1 from enrollments where id = $1 for update', [enrollment.id]);
    const completing = h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: '' });
    await waitFor('the completion to wait for the held enrollment', async () => {
      const rows = await h.db.query(
        `select 1 from pg_stat_activity where datname = current_database() and application_name <> 'enrollment-holder' and wait_event_type = 'Lock'`,
      );
      return rows.length > 0;
    });
    expect(await free('profiles', coach.id)).toBe(false);
    expect(await free('profiles', participant.id)).toBe(false);
    expect(await free('sessions', session.id)).toBe(true);
    await holder.query('commit');
    const done = await completing;
    expect(done.error).toBeUndefined();
    expect(done.response!.session!.status).toBe(SessionStatus.SESSION_STATUS_COMPLETED);
  } finally {
    await holder.query('rollback').catch(() => undefined);
    await Promise.all([holder.end(), probe.end()]);
  }
});
