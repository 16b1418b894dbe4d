import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { EnrollmentStatus } from '../../src/generated/coaching/v1/enrollment';
import { SessionStatus } from '../../src/generated/coaching/v1/session';
import { expectError } from '../support/errorDetails';
import { eventsAfter, lastSequence, type SeenEvent } from '../support/events';
import { useHarness } from '../support/harness';
import { at } from '../support/world';
import { waitFor } from '../support/waitFor';
import { Client } from 'pg';

const h = useHarness();

const shape = (events: SeenEvent[]) => events.map((e) => [e.type.replace('coaching.events.v1.', ''), e.subject]);

/** Runs `write` and returns exactly the events it produced. */
async function eventsOf(write: () => Promise<unknown>): Promise<SeenEvent[]> {
  const before = await lastSequence(h.api);
  await write();
  return eventsAfter(h.api, before);
}

describe('the transactional outbox', () => {
  it('gives every write type exactly its events, in order, with the envelope', async () => {
    const requestId = randomUUID();
    let coachId = '';
    const created = await eventsOf(async () => {
      coachId = (
        await h.api.ok(
          'createProfile',
          {
            requestId,
            profile: { role: 1, email: `e-${randomUUID()}@example.com`, displayName: 'Eve', timezone: 'UTC', bio: '' } as never,
          },
          { metadata: { 'x-request-id': 'trace-outbox-1' } },
        )
      ).profile!.id;
    });
    expect(shape(created)).toEqual([['ProfileCreated', coachId]]);
    const [event] = created;
    expect(event!.envelope).toMatchObject({
      source: '/coaching-service',
      type: 'coaching.events.v1.ProfileCreated',
      datacontenttype: 'application/protobuf',
      traceId: 'trace-outbox-1',
    });
    expect(event!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event!.data.profile).toMatchObject({ id: coachId, displayName: 'Eve', etag: '"v1"' });
    const [row] = await h.db.query('select update_time from profiles where id = $1', [coachId]);
    expect(Number(event!.envelope.time!.seconds) * 1000 + event!.envelope.time!.nanos / 1e6).toBe((row!.update_time as Date).getTime());

    const { coach, participant, program, enrollment, book } = await h.w.enrolled(1);
    const updated = await eventsOf(() =>
      h.api.ok('updateProfile', { profile: { ...coach, displayName: 'Coach B', bio: coach.bio }, updateMask: ['display_name', 'bio'] }),
    );
    // bio did not change: only display_name is news.
    expect(shape(updated)).toEqual([['ProfileUpdated', coach.id]]);
    expect(updated[0]!.data).toMatchObject({ profile: { displayName: 'Coach B', etag: '"v2"' }, changedFields: 'display_name' });

    const programUpdated = await eventsOf(() => h.api.ok('updateProgram', { program: { ...program, title: 'New title' }, updateMask: ['title'] }));
    expect(shape(programUpdated)).toEqual([['ProgramUpdated', program.id]]);
    expect(programUpdated[0]!.data.changedFields).toBe('title');

    let sessionId = '';
    const scheduled = await eventsOf(async () => {
      sessionId = (await book(at(5))).id;
    });
    expect(shape(scheduled)).toEqual([['SessionScheduled', sessionId]]);
    const session = scheduled[0]!.data.session;
    const completed = await eventsOf(() => h.api.ok('completeSession', { id: sessionId, etag: session.etag, notes: 'done', requestId: '' }));
    expect(shape(completed)).toEqual([
      ['SessionCompleted', sessionId],
      ['EnrollmentCompleted', enrollment.id],
    ]);
    expect(completed[0]!.data.changedFields.split(',').sort()).toEqual(['completed_time', 'notes', 'status']);
    expect(completed[1]!.data.enrollment).toMatchObject({ status: 'ENROLLMENT_STATUS_COMPLETED', completedSessions: 1 });
    expect(completed[1]!.sequence).toBe(completed[0]!.sequence + 1n);

    // A cancelled session, a withdrawn enrollment, deletes.
    const other = await h.w.enrolled(3);
    const s2 = await other.book(at(9));
    const cancelled = await eventsOf(() =>
      h.api.ok('updateSession', { session: { ...s2, status: SessionStatus.SESSION_STATUS_CANCELLED }, updateMask: ['status'] }),
    );
    expect(shape(cancelled)).toEqual([['SessionCancelled', s2.id]]);
    const withdrawn = await eventsOf(() =>
      h.api.ok('updateEnrollment', { enrollment: { ...other.enrollment, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] }),
    );
    expect(shape(withdrawn)).toEqual([['EnrollmentWithdrawn', other.enrollment.id]]);
    expect(withdrawn[0]!.data.changedFields).toBe('status');
    const s2now = (await h.api.ok('getSession', { id: s2.id })).session!;
    const deletedSession = await eventsOf(() => h.api.ok('deleteSession', { id: s2.id, etag: s2now.etag }));
    expect(shape(deletedSession)).toEqual([['SessionDeleted', s2.id]]);
    expect(deletedSession[0]!.data.session).toMatchObject({ id: s2.id, status: 'SESSION_STATUS_CANCELLED' });

    // A reschedule, a reactivation, a plain program delete.
    const fourth = await h.w.enrolled(3);
    const s4 = await fourth.book(at(30));
    const rescheduled = await eventsOf(() => h.api.ok('updateSession', { session: { ...s4, scheduledStart: at(31) }, updateMask: ['scheduled_start'] }));
    expect(shape(rescheduled)).toEqual([['SessionUpdated', s4.id]]);
    expect(rescheduled[0]!.data.changedFields).toBe('scheduled_start');
    const w4 = (
      await h.api.ok('updateEnrollment', { enrollment: { ...fourth.enrollment, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }, updateMask: ['status'] })
    ).enrollment!;
    const reactivated = await eventsOf(() =>
      h.api.ok('updateEnrollment', { enrollment: { ...w4, status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE }, updateMask: ['status'] }),
    );
    expect(shape(reactivated)).toEqual([['EnrollmentUpdated', fourth.enrollment.id]]);
    const lonely = await h.w.program(fourth.coach.id);
    const programDeleted = await eventsOf(() => h.api.ok('deleteProgram', { id: lonely.id, etag: lonely.etag, force: false }));
    expect(shape(programDeleted)).toEqual([['ProgramDeleted', lonely.id]]);

    // A forced delete: what it took along first (sessions, enrollments, programs), the root last.
    const third = await h.w.enrolled(3);
    const s3 = await third.book(at(20));
    const profileNow = (await h.api.ok('getProfile', { id: third.coach.id })).profile!;
    const forced = await eventsOf(() => h.api.ok('deleteProfile', { id: third.coach.id, etag: profileNow.etag, force: true }));
    expect(shape(forced)).toEqual([
      ['SessionDeleted', s3.id],
      ['EnrollmentDeleted', third.enrollment.id],
      ['ProgramDeleted', third.program.id],
      ['ProfileDeleted', third.coach.id],
    ]);
    expect(participant.id).toBeDefined();
  });

  it('appends nothing for a replayed request_id, and nothing for a refused write', async () => {
    const requestId = randomUUID();
    const profile = { role: 2, email: `r-${randomUUID()}@example.com`, displayName: 'Ray', timezone: 'UTC', bio: '' } as never;
    const first = await eventsOf(() => h.api.ok('createProfile', { requestId, profile }));
    expect(first).toHaveLength(1);
    const replay = await eventsOf(() => h.api.ok('createProfile', { requestId, profile }));
    expect(replay).toEqual([]);
    const refused = await eventsOf(async () =>
      expectError(await h.api.call('createProfile', { requestId: '', profile }), status.ALREADY_EXISTS, 'EMAIL_TAKEN'),
    );
    expect(refused).toEqual([]);
  });

  it('numbers events in commit order under concurrent writes: a reader never skips one', async () => {
    const before = await lastSequence(h.api);
    const seenByReader: bigint[] = [];
    let writing = true;
    const reader = (async () => {
      let cursor = before;
      while (writing) {
        const page = await h.api.ok('listEvents', { afterSequence: String(cursor), pageSize: 100 });
        for (const e of page.events) seenByReader.push(BigInt(e.sequence));
        cursor = BigInt(page.nextAfterSequence);
      }
      const rest = await eventsAfter(h.api, cursor);
      seenByReader.push(...rest.map((e) => e.sequence));
    })();
    const ids: string[] = [];
    for (let round = 0; round < 4; round++) ids.push(...(await Promise.all(Array.from({ length: 8 }, () => h.w.coach('Racer').then((p) => p.id)))));
    writing = false;
    await reader;
    const all = await eventsAfter(h.api, before);
    expect(all.map((e) => e.subject).sort()).toEqual([...ids].sort());
    // The reader that paged along saw every event exactly once, in order.
    expect(seenByReader).toEqual(all.map((e) => e.sequence));
  });

  it('a write that appends while an earlier append is uncommitted waits for it: sequences become visible in commit order', async () => {
    const before = await lastSequence(h.api);
    const early = new Client({ connectionString: h.db.url });
    await early.connect();
    try {
      // An append that has taken its sequence number but not committed yet (what a slow writer looks like).
      await early.query('begin');
      const [{ value }] = (await early.query(`update outbox_counters set value = value + 1 where name = 'sequence' returning value::text as value`)).rows;
      await early.query(
        `insert into outbox (sequence, id, type, subject, time, data) values ($1, gen_random_uuid(), 'coaching.events.v1.ProfileCreated', 'early', now(), '{}')`,
        [value],
      );
      let done = false;
      const late = h.w.coach('Late').then((p) => {
        done = true;
        return p;
      });
      // The later write waits on the counter row's lock in its COMMIT (migration 0005), its change made but not committed.
      await waitFor('the later write to wait for the counter lock', async () => {
        const rows = await h.db.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike 'commit%'`,
        );
        return rows.length > 0;
      });
      expect(done).toBe(false);
      expect(await eventsAfter(h.api, before)).toEqual([]);
      await early.query('commit');
      const coach = await late;
      const seen = await eventsAfter(h.api, before);
      expect(seen.map((e) => e.subject)).toEqual(['early', coach.id]);
      expect(seen[1]!.sequence).toBe(seen[0]!.sequence + 1n);
    } finally {
      await early.query('rollback').catch(() => undefined);
      await early.end();
    }
  });

  it('a write holds the counter lock only in its COMMIT: between its statements another transaction can take it', async () => {
    const before = await lastSequence(h.api);
    const writer = new Client({ connectionString: h.db.url });
    const other = new Client({ connectionString: h.db.url });
    await writer.connect();
    await other.connect();
    try {
      await writer.query('begin');
      await writer.query(
        `insert into outbox (id, type, subject, time, data)
         values (gen_random_uuid(), 'coaching.events.v1.ProfileCreated', 'first', now(), '{}'),
                (gen_random_uuid(), 'coaching.events.v1.ProfileCreated', 'second', now(), '{}')`,
      );
      // Appended, not committed: the counter is free (0004 held it here, to the commit), and the rows have no number yet.
      await other.query('begin');
      expect((await other.query(`select value from outbox_counters where name = 'sequence' for update nowait`)).rows).toHaveLength(1);
      await other.query('rollback');
      expect((await writer.query(`select sequence from outbox where subject in ('first', 'second')`)).rows).toEqual([{ sequence: null }, { sequence: null }]);
      await writer.query('commit');
      const seen = await eventsAfter(h.api, before);
      expect(seen.map((e) => e.subject)).toEqual(['first', 'second']);
      expect(seen[0]!.sequence).toBe(before + 1n);
      expect(seen[1]!.sequence).toBe(before + 2n);
    } finally {
      await writer.query('rollback').catch(() => undefined);
      await Promise.all([writer.end(), other.end()]);
    }
  });

  it('ListEvents refuses invalid input naming the field', async () => {
    const bad = await h.api.call('listEvents', { afterSequence: '-1', pageSize: -2 });
    expectError(bad, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(bad.error!.details).toMatch(/after_sequence/);
    expect(bad.error!.details).toMatch(/page_size/);
  });
});
