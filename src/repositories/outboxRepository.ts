import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { StoredEvent } from '../domain/storedEvent';

/** One event to append: the envelope attributes the writer knows, and the event as protobuf JSON. */
export interface NewOutboxEvent {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly traceId: string;
  readonly data: unknown;
}

const row = z.object({
  sequence_text: z.string(),
  id: z.string(),
  type: z.string(),
  subject: z.string(),
  time: z.number(),
  trace_id: z.string(),
  data: z.unknown(),
  published_time: z.number().nullable(),
});

const toRow = (r: z.infer<typeof row>): StoredEvent => ({
  sequence: r.sequence_text,
  id: r.id,
  type: r.type,
  subject: r.subject,
  time: new Date(r.time),
  traceId: r.trace_id,
  data: r.data,
  publishedTime: r.published_time === null ? undefined : new Date(r.published_time),
});

// Output names differ from the columns where the type changes: `order by sequence` must mean the bigint column.
const columns = sql.fragment`sequence::text as sequence_text, id, type, subject, time, trace_id, data, published_time`;

/**
 * The transactional outbox (migrations 0004 and 0005). A writer inserts its
 * events without a sequence; a deferred trigger numbers them during COMMIT
 * from one counter row, whose lock is held only from there to the commit's
 * end, so sequences become visible in commit order: a reader that sees
 * sequence n sees every committed event below n (README, "Events").
 */
export const outboxRepository = {
  /**
   * Appends the events in order (numbered at commit). Inside the write's
   * transaction. `alongside`, a data-modifying statement of the same write
   * (the idempotent response), runs in the same statement: one round trip.
   */
  async append(tx: CommonQueryMethods, events: readonly NewOutboxEvent[], alongside?: FragmentSqlToken): Promise<void> {
    if (events.length === 0) {
      if (alongside !== undefined) await tx.query(sql.unsafe`${alongside}`);
      return;
    }
    const rows = events.map((e) => ({ id: e.id, type: e.type, subject: e.subject, trace_id: e.traceId, data: e.data }));
    // Rows are inserted, and so numbered at commit, in the order given.
    await tx.query(sql.unsafe`
      ${alongside === undefined ? sql.fragment`` : sql.fragment`with alongside as (${alongside})`}
      insert into outbox (id, type, subject, time, trace_id, data)
      select r.id, r.type, r.subject, now(), r.trace_id, r.data
      from rows from (jsonb_to_recordset(${sql.jsonb(rows as never)}) as (id uuid, type text, subject text, trace_id text, data jsonb))
        with ordinality as r(id, type, subject, trace_id, data, n)
      order by r.n`);
  },

  /** Up to `limit` events after `afterSequence`, in order. */
  async listAfter(db: CommonQueryMethods, afterSequence: string, limit: number): Promise<StoredEvent[]> {
    const rows = await db.any(sql.type(row)`select ${columns} from outbox where sequence > ${afterSequence}::bigint order by sequence limit ${limit}`);
    return rows.map(toRow);
  },

  /** Retention has deleted every event up to this sequence. */
  async retainedAfter(db: CommonQueryMethods): Promise<string> {
    return db.oneFirst(sql.type(z.object({ value: z.string() }))`select value::text as value from outbox_counters where name = 'retained_after'`);
  },

  /** The oldest events the relay has not published yet, in order. */
  async unpublished(db: CommonQueryMethods, limit: number): Promise<StoredEvent[]> {
    const rows = await db.any(sql.type(row)`select ${columns} from outbox where published_time is null order by sequence limit ${limit}`);
    return rows.map(toRow);
  },

  async markPublished(db: CommonQueryMethods, sequences: readonly string[]): Promise<void> {
    if (sequences.length === 0) return;
    await db.query(sql.unsafe`update outbox set published_time = now() where sequence = any(${sql.array(sequences, 'int8')}) and published_time is null`);
  },

  /** Backlog: unpublished events and the age of the oldest (seconds; 0 when none). */
  async backlog(db: CommonQueryMethods): Promise<{ count: number; oldestAgeSeconds: number }> {
    return db.one(sql.type(z.object({ count: z.number(), oldestAgeSeconds: z.number() }))`
      select count(*)::int as count, coalesce(extract(epoch from now() - min(time)), 0)::float8 as "oldestAgeSeconds"
      from outbox where published_time is null`);
  },

  /**
   * Deletes up to `limit` expired events, oldest first, and raises the
   * retention mark to the highest deleted sequence; returns how many it
   * deleted. With `publishedOnly` (a relay runs) an event expires
   * `olderThanMs` after it was published and an unpublished one never does;
   * without a relay, `olderThanMs` after it was written. Either way the
   * deleted events are a prefix of the sequence (the relay publishes in
   * order), so the mark says exactly what a ListEvents reader may have missed.
   */
  async deleteExpired(tx: CommonQueryMethods, olderThanMs: number, limit: number, publishedOnly: boolean): Promise<number> {
    const expired = publishedOnly
      ? sql.fragment`published_time is not null and published_time < now() - make_interval(secs => ${olderThanMs / 1000})`
      : sql.fragment`time < now() - make_interval(secs => ${olderThanMs / 1000})`;
    const deleted = await tx.one(sql.type(z.object({ count: z.number(), max: z.string().nullable() }))`
      with doomed as (
        select sequence from outbox where ${expired} order by sequence limit ${limit} for update skip locked
      ), gone as (delete from outbox o using doomed d where o.sequence = d.sequence returning o.sequence)
      select count(*)::int as count, max(sequence)::text as max from gone`);
    if (deleted.max !== null) {
      await tx.query(sql.unsafe`update outbox_counters set value = greatest(value, ${deleted.max}::bigint) where name = 'retained_after'`);
    }
    return deleted.count;
  },
};
