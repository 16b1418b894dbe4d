import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { ProfileRole } from '../domain/profile';

/**
 * The lock order of every write transaction: the idempotency key, then the
 * resource tables parents first, each in ascending id; no transaction asks
 * for a lock below one it holds. The rules and why: README, design decisions,
 * "One lock order for every write".
 */
export const LOCK_ORDER = ['idempotency_keys', 'profiles', 'programs', 'enrollments', 'sessions'] as const;

/** Every table the service writes, declared once (in the lock order); tests count rows from it. */
export type WrittenTable = (typeof LOCK_ORDER)[number];

/** The tables whose rows reference other resources, in the lock order (top down): what a forced delete cascades to. */
export const REFERENCING_TABLES = LOCK_ORDER.filter(
  (t): t is Exclude<WrittenTable, 'idempotency_keys' | 'profiles'> => t !== 'idempotency_keys' && t !== 'profiles',
);
export type ReferencingTable = (typeof REFERENCING_TABLES)[number];

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
