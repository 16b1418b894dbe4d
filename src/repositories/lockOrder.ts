import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { ProfileRole } from '../domain/profile';

/**
 * THE LOCK ORDER of every write transaction, the one rule that keeps them
 * free of deadlocks (README, "One lock order"):
 *
 *   1. the idempotency key (claimed by the transaction's first statement),
 *   2. profiles, 3. programs, 4. enrollments, 5. sessions (the hierarchy of
 *      the foreign keys: a row's parents come before it),
 *   and within one table, ascending id (one `... order by id for ...`),
 *   6. the outbox sequence counter (outbox_counters), taken by the
 *      transaction's last step, appending its events: after it the
 *      transaction only stores its idempotent response (its own row) and
 *      commits, so it never waits while holding the counter.
 *
 * A transaction never asks for a lock of a lower level than one it holds:
 * - a parent the write needs (for a precondition, or that a foreign-key
 *   check will take FOR KEY SHARE) is locked explicitly before the child;
 * - a forced delete first locks everything it will delete, top down, each
 *   table in id order, and only then deletes bottom up (children first, as
 *   the foreign keys require). After its lock phase it never waits again;
 * - every write that inserts or updates a session first locks the
 *   session's coach and participant profiles. The exclusion constraints
 *   make a session write wait for any concurrent writer of an overlapping
 *   session of the same person; two such writers would otherwise each wait
 *   for the other. A write that may create an overlap (CreateSession,
 *   UpdateSession) takes them FOR NO KEY UPDATE, so it runs alone among the
 *   person's session writes; CompleteSession keeps a session where it is,
 *   so it cannot overlap another completion and takes them FOR SHARE:
 *   completions of one coach still run side by side. Neither mode stops a
 *   foreign-key check (FOR KEY SHARE);
 * - an update that sets an email first locks the profile that holds that
 *   email now, with its own row, in id order (the unique index would make
 *   two profiles swapping emails wait for each other).
 */
export const LOCK_ORDER = ['idempotency_keys', 'profiles', 'programs', 'enrollments', 'sessions', 'outbox_counters'] as const;

const person = z.object({ id: z.string(), role: z.enum(['COACH', 'PARTICIPANT']) });

/** Profile locks taken by writes that depend on, or serialise on, a person. */
export type ProfileLock = 'key share' | 'no key update' | 'update';

const MODES: Record<ProfileLock, FragmentSqlToken> = {
  'key share': sql.fragment`for key share`,
  'no key update': sql.fragment`for no key update`,
  update: sql.fragment`for update`,
};

export const lockOrder = {
  /** Locks the profiles (in id order) and returns the role of each that exists. */
  async profiles(tx: CommonQueryMethods, ids: readonly string[], mode: ProfileLock): Promise<Map<string, ProfileRole>> {
    const rows = await tx.any(sql.type(person)`
      select id, role from profiles where id = any(${sql.array(ids, 'uuid')}) order by id ${MODES[mode]}`);
    return new Map(rows.map((r) => [r.id, r.role]));
  },

  /**
   * Locks a session's coach and participant (in id order): 'no key update'
   * for a write that may move the session onto another, 'share' for one
   * that keeps it where it is. Nothing when the session does not exist.
   */
  async sessionPeople(tx: CommonQueryMethods, sessionId: string, mode: 'no key update' | 'share'): Promise<void> {
    await tx.query(sql.unsafe`
      select id from profiles
      where id in (select coach_id from sessions where id = ${sessionId} union all select participant_id from sessions where id = ${sessionId})
      order by id ${mode === 'share' ? sql.fragment`for share` : sql.fragment`for no key update`}`);
  },

  /** Locks a profile together with the profile that holds `email` now (case-insensitively), in id order. */
  async emailHolders(tx: CommonQueryMethods, profileId: string, email: string): Promise<void> {
    await tx.query(sql.unsafe`select id from profiles where id = ${profileId} or lower(email) = lower(${email}) order by id for update`);
  },
};
