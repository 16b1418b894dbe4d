import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';

const keyRow = z.object({ operation: z.string(), request_hash: z.string(), response: z.unknown() });

/** What a request_id already stands for. */
export interface IdempotencyRecord {
  readonly operation: string;
  readonly requestHash: string;
  readonly response: unknown;
}

/**
 * Idempotency keys. `claim` must run inside the write's transaction: a
 * concurrent claim of the same key blocks on the unique index until the first
 * transaction ends, then sees its committed record (or claims it, if the first
 * rolled back), so racing retries never write twice.
 */
export const idempotencyRepository = {
  /** Claims the key; returns the existing record instead when it was already used. */
  async claim(tx: CommonQueryMethods, requestId: string, operation: string, requestHash: string): Promise<IdempotencyRecord | undefined> {
    const claimed = await tx.maybeOneFirst(sql.type(z.object({ request_id: z.string() }))`
      insert into idempotency_keys (request_id, operation, request_hash, response)
      values (${requestId}, ${operation}, ${requestHash}, 'null'::jsonb)
      on conflict (request_id) do nothing
      returning request_id`);
    if (claimed !== null) return undefined;
    const row = await tx.one(sql.type(keyRow)`select operation, request_hash, response from idempotency_keys where request_id = ${requestId}`);
    return { operation: row.operation, requestHash: row.request_hash, response: row.response };
  },

  /**
   * The statement that stores the response of a claimed key (same transaction
   * as the write), for the caller to run along with its last one: a
   * data-modifying WITH item, so the two take one round trip.
   */
  completion(requestId: string, response: unknown): FragmentSqlToken {
    return sql.fragment`update idempotency_keys set response = ${sql.jsonb(response as never)} where request_id = ${requestId}`;
  },

  /**
   * Deletes up to `limit` keys older than `olderThanMs`, oldest first (the
   * retention job); returns how many. A key being claimed right now is not
   * visible to this delete, and a locked one is skipped.
   */
  async deleteExpired(tx: CommonQueryMethods, olderThanMs: number, limit: number): Promise<number> {
    return tx.oneFirst(sql.type(z.object({ count: z.number() }))`
      with doomed as (
        select request_id from idempotency_keys
        where create_time < now() - make_interval(secs => ${olderThanMs / 1000})
        order by create_time limit ${limit} for update skip locked
      ), gone as (delete from idempotency_keys k using doomed d where k.request_id = d.request_id returning 1)
      select count(*)::int as count from gone`);
  },
};
