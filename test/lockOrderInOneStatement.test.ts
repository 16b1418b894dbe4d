import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SessionStatus } from '../src/generated/coaching/v1/session';
import { useHarness } from './support/harness';
import { waitFor } from './support/waitFor';
import { at } from './support/world';

const h = useHarness();

const NOWAIT_REFUSED = '55P03';

/** Whether `client` can lock the row now (FOR UPDATE NOWAIT), in a transaction it rolls back at once. */
async function lockable(client: Client, table: 'profiles' | 'programs' | 'enrollments', id: string): Promise<boolean> {
  await client.query('begin');
  try {
    await client.query(`select 1 from ${table} where id = $1 for update nowait`, [id]);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === NOWAIT_REFUSED) return false;
    throw error;
  } finally {
    await client.query('rollback');
  }
}

/** A connection that holds `profileId` FOR UPDATE while `during` runs, and a probe connection for `during`. */
async function holdingProfile(profileId: string, during: (probe: Client, release: () => Promise<void>) => Promise<void>): Promise<void> {
  const holder = new Client({ connectionString: h.db.url, application_name: 'lock-holder' });
  const probe = new Client({ connectionString: h.db.url });
  await Promise.all([holder.connect(), probe.connect()]);
  try {
    await holder.query('begin');
    await holder.query('select 1 from profiles where id = $1 for update', [profileId]);
    await during(probe, async () => {
      await holder.query('commit');
    });
  } finally {
    await holder.query('rollback').catch(() => undefined);
    await Promise.all([holder.end(), probe.end()]);
  }
}

const waitingForLock = () =>
  waitFor('the write to wait for the held person', async () => {
    const rows = await h.db.query(
      `select 1 from pg_stat_activity where datname = current_database() and application_name <> 'lock-holder' and wait_event_type = 'Lock'`,
    );
    return rows.length > 0;
  });

// CompleteSession and CreateSession lock their people, program and enrollment in one statement
// (enrollmentRepository.lockProgressOfSession, lockForBooking): the lock order (profiles in id order,
// then programs, then enrollments) must hold inside it. Each test holds the higher-id person.
it('CompleteSession locks the coach and participant in id order before the enrollment', async () => {
  const { coach, participant, enrollment, book } = await h.w.enrolled(3);
  const session = await book(at(2));
  const [low, high] = [coach.id, participant.id].sort();
  await holdingProfile(high!, async (probe, release) => {
    const completing = h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: '' });
    await waitingForLock();
    // Waiting on the higher id: it holds the lower one (FOR SHARE) and not yet the enrollment.
    expect(await lockable(probe, 'profiles', low!)).toBe(false);
    expect(await lockable(probe, 'enrollments', enrollment.id)).toBe(true);
    await release();
    const done = await completing;
    expect(done.error).toBeUndefined();
    expect(done.response!.session!.status).toBe(SessionStatus.SESSION_STATUS_COMPLETED);
    expect(done.response!.enrollment!.completedSessions).toBe(1);
  });
});

it('CreateSession locks the coach and participant in id order before the program and the enrollment', async () => {
  const { coach, participant, program, enrollment, book } = await h.w.enrolled(3);
  const [low, high] = [coach.id, participant.id].sort();
  await holdingProfile(high!, async (probe, release) => {
    const booking = book(at(4));
    await waitingForLock();
    expect(await lockable(probe, 'profiles', low!)).toBe(false);
    expect(await lockable(probe, 'programs', program.id)).toBe(true);
    expect(await lockable(probe, 'enrollments', enrollment.id)).toBe(true);
    await release();
    const session = await booking;
    expect(session.status).toBe(SessionStatus.SESSION_STATUS_SCHEDULED);
  });
});
