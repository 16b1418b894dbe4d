import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
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
});
