import { Client } from 'pg';
import { useHarness } from './support/harness';
import { waitFor } from './support/waitFor';

const h = useHarness();

/**
 * What decides the order in which one statement takes its row locks: the
 * order the FOR ... OF clauses name the tables (parse order of the
 * RowMarkClauses, kept by preprocess_rowmarks and ExecInitLockRows), not
 * the order of the tables in FROM. enrollmentRepository.lockProgressOfSession
 * and lockForBooking rely on it. Here FROM names enrollments first and the
 * clauses name profiles first; the enrollment is held elsewhere.
 */
it('a statement locks its rows in the order its locking clauses name the tables, not in FROM order', async () => {
  const { participant, enrollment } = await h.w.enrolled(3);
  const holder = new Client({ connectionString: h.db.url });
  const locker = new Client({ connectionString: h.db.url, application_name: 'clause-order-locker' });
  const probe = new Client({ connectionString: h.db.url });
  await Promise.all([holder.connect(), locker.connect(), probe.connect()]);
  try {
    await holder.query('begin');
    await holder.query('select 1 from enrollments where id = $1 for update', [enrollment.id]);
    await locker.query('begin');
    const locking = locker.query(`select 1 from enrollments e join profiles p on p.id = e.participant_id where e.id = $1 for share of p for update of e`, [
      enrollment.id,
    ]);
    await waitFor('the statement to wait for the held enrollment', async () => {
      const rows = await h.db.query(`select 1 from pg_stat_activity where application_name = 'clause-order-locker' and wait_event_type = 'Lock'`);
      return rows.length > 0;
    });
    // Waiting on the enrollment, it already holds the participant (named first), though FROM lists it second.
    await probe.query('begin');
    const refused = await probe.query('select 1 from profiles where id = $1 for update nowait', [participant.id]).then(
      () => false,
      (e: { code?: string }) => e.code === '55P03',
    );
    await probe.query('rollback');
    expect(refused).toBe(true);
    await holder.query('commit');
    await locking;
    await locker.query('commit');
  } finally {
    await Promise.all([holder.end(), locker.end(), probe.end()]);
  }
});
