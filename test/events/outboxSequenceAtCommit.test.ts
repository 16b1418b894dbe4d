import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { expectError } from '../support/errorDetails';
import { useHarness } from '../support/harness';
import { at } from '../support/world';

const h = useHarness();

/**
 * Migration 0005 numbers outbox rows at COMMIT. Raw transactions that insert
 * events the way the service does, and then roll back or fail in their own
 * COMMIT (a deferred trigger queued after the outbox's), race the service's
 * real writes (CompleteSession appends two events): the committed sequences
 * stay gap-free, the counter equals the last one, and each transaction's
 * events are consecutive and in insertion order.
 */
describe('outbox sequences numbered at commit', () => {
  it('stay gap-free and per-transaction consecutive with rollbacks, commit-time failures and two-event writes in between', async () => {
    const admin = new Client({ connectionString: h.db.url });
    await admin.connect();
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = new Client({ connectionString: h.db.url });
        await c.connect();
        return c;
      }),
    );
    try {
      await admin.query(`create table if not exists commit_fails (id int)`);
      await admin.query(
        `create or replace function commit_fails_raise() returns trigger language plpgsql as $$ begin raise exception 'fails at commit'; end $$`,
      );
      await admin.query(`drop trigger if exists commit_fails_at_commit on commit_fails`);
      await admin.query(
        `create constraint trigger commit_fails_at_commit after insert on commit_fails deferrable initially deferred for each row execute function commit_fails_raise()`,
      );
      const before = BigInt((await admin.query<{ v: string }>(`select coalesce(max(sequence), 0)::text as v from outbox`)).rows[0]!.v);

      const rawInsert = async (c: Client, marker: string, n: number) => {
        await c.query(
          `insert into outbox (id, type, subject, time, trace_id, data)
           select gen_random_uuid(), 'coaching.events.v1.TestRaw', $1, now(), '', jsonb_build_object('i', i) from generate_series(1, $2::int) as i order by i`,
          [marker, n],
        );
      };
      const failures: string[] = [];
      const raw = clients.map(async (c, k) => {
        for (let i = 0; i < 15; i++) {
          const kind = (i + k) % 3;
          await c.query('begin');
          await rawInsert(c, `raw-${kind}-${k}-${i}`, 3);
          if (kind === 0) await c.query('commit');
          else if (kind === 1) await c.query('rollback');
          else {
            await c.query('insert into commit_fails values (1)');
            await c.query('commit').then(
              () => failures.push('committed'),
              (e: Error) => failures.push(e.message),
            );
          }
        }
      });
      const service = (async () => {
        const { book } = await h.w.enrolled(8);
        for (let i = 0; i < 8; i++) {
          const s = await book(at(i + 1));
          await h.api.ok('completeSession', { id: s.id, etag: s.etag, requestId: randomUUID(), notes: '' });
        }
      })();
      await Promise.all([...raw, service]);
      expect(new Set(failures)).toEqual(new Set(['fails at commit']));

      const rows = (
        await admin.query<{ sequence: string; subject: string; data: { i?: number } }>(
          `select sequence::text, subject, data from outbox where outbox.sequence > $1 order by outbox.sequence`,
          [String(before)],
        )
      ).rows;
      const seqs = rows.map((r) => BigInt(r.sequence));
      // Gap-free: no number was taken by a rolled-back or failed transaction.
      expect(seqs).toEqual(seqs.map((_, i) => before + BigInt(i) + 1n));
      const counter = (await admin.query<{ v: string }>(`select value::text as v from outbox_counters where name = 'sequence'`)).rows[0]!.v;
      expect(BigInt(counter)).toBe(seqs[seqs.length - 1]);
      expect(await admin.query(`select count(*)::int as n from outbox where sequence is null`)).toMatchObject({ rows: [{ n: 0 }] });
      // Only committed raw transactions appear, each with its three events consecutive and in order.
      const raws = rows.filter((r) => r.subject.startsWith('raw-'));
      expect(raws.every((r) => r.subject.startsWith('raw-0-'))).toBe(true);
      expect(raws.length).toBe(20 * 3);
      for (let i = 0; i < rows.length; i++) {
        if (!rows[i]!.subject.startsWith('raw-') || rows[i]!.data.i !== 1) continue;
        expect([rows[i + 1]!.subject, rows[i + 2]!.subject]).toEqual([rows[i]!.subject, rows[i]!.subject]);
        expect([rows[i + 1]!.data.i, rows[i + 2]!.data.i]).toEqual([2, 3]);
      }
    } finally {
      await admin.query(`drop table if exists commit_fails`);
      await admin.query(`drop function if exists commit_fails_raise()`);
      await Promise.all([admin.end(), ...clients.map((c) => c.end())]);
    }
  }, 60_000);

  it('a write whose COMMIT fails after its events were numbered stores no response and takes no number; its retry appends once', async () => {
    const { enrollment, book } = await h.w.enrolled(3);
    const session = await book(at(70));
    const counter = async () => (await h.db.query<{ v: string }>(`select value::text as v from outbox_counters where name = 'sequence'`))[0]!.v;
    const stored = async (requestId: string) => (await h.db.query('select response from idempotency_keys where request_id = $1', [requestId])).length;
    // Named after outbox_sequence_at_commit: for each row it fires after the numbering, at commit.
    await h.db.query(
      `create function test_fail_after_numbering() returns trigger language plpgsql as $$ begin raise exception 'refused after numbering'; end $$`,
    );
    await h.db.query(
      `create constraint trigger z_fail_after_numbering after insert on outbox deferrable initially deferred
       for each row when (new.subject = '${enrollment.id}') execute function test_fail_after_numbering()`,
    );
    const requestId = randomUUID();
    const before = await counter();
    try {
      const failed = await h.api.call('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' });
      expectError(failed, status.INTERNAL, 'INTERNAL');
      expect(await counter()).toBe(before);
      expect(await stored(requestId)).toBe(0);
      expect(await h.db.query(`select count(*)::int as n from outbox where sequence > $1 or sequence is null`, [before])).toEqual([{ n: 0 }]);
    } finally {
      await h.db.query('drop trigger z_fail_after_numbering on outbox');
      await h.db.query('drop function test_fail_after_numbering()');
    }
    const done = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' });
    const replay = await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId, notes: '' });
    expect(replay).toEqual(done);
    expect(await stored(requestId)).toBe(1);
    const appended = await h.db.query<{ sequence: string; subject: string }>(
      `select outbox.sequence::text as sequence, subject from outbox where outbox.sequence > $1 order by outbox.sequence`,
      [before],
    );
    expect(appended).toEqual([
      { sequence: String(BigInt(before) + 1n), subject: session.id },
      { sequence: String(BigInt(before) + 2n), subject: enrollment.id },
    ]);
  });
});
