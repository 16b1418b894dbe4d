import { sql, type CommonQueryMethods, type FragmentSqlToken, type QuerySqlToken } from 'slonik';
import { z } from 'zod';
import type { ReferenceCounts } from '../domain/errors';
import type { EnrollmentRecord } from '../domain/enrollment';
import type { ProgramRecord } from '../domain/program';
import type { SessionRecord } from '../domain/session';
import { enrollmentRepository } from './enrollmentRepository';
import { REFERENCING_TABLES, type ReferencingTable } from './lockOrder';
import { programRepository } from './programRepository';
import { sessionRepository } from './sessionRepository';

/** Rows other rows reference (restrictive foreign keys guard each of them). */
export type ReferencedKind = 'profile' | 'program' | 'enrollment';

const counts = z.object({ programs: z.number(), enrollments: z.number(), sessions: z.number() });

/** Locks the rows a statement selects, in id order (see lockOrder.ts). */
const lockAll = (table: ReferencingTable, where: FragmentSqlToken): QuerySqlToken =>
  sql.unsafe`select id from ${sql.identifier([table])} where ${where} order by id for update`;

/**
 * The reference graph in one place: who points at a profile, program or enrollment, and the only cascade
 * (nothing cascades in the database). Locking: README "Design decisions", "One lock order for every write".
 */
const GRAPH: Record<
  ReferencedKind,
  {
    count: (id: string) => QuerySqlToken<typeof counts>;
    referencing: (id: string) => Partial<Record<ReferencingTable, FragmentSqlToken>>;
  }
> = {
  profile: {
    // Direct references: a coach's programs and sessions, a participant's enrollments and sessions.
    count: (id) => sql.type(counts)`
      select (select count(*)::int from programs where coach_id = ${id}) as programs,
             (select count(*)::int from enrollments where participant_id = ${id}) as enrollments,
             (select count(*)::int from sessions where coach_id = ${id} or participant_id = ${id}) as sessions`,
    // The coach's programs, the participant's enrollments and those in the coach's programs, and the sessions of either.
    referencing: (id) => ({
      programs: sql.fragment`coach_id = ${id}`,
      enrollments: sql.fragment`participant_id = ${id} or program_id in (select id from programs where coach_id = ${id})`,
      sessions: sql.fragment`coach_id = ${id} or participant_id = ${id} or program_id in (select id from programs where coach_id = ${id})`,
    }),
  },
  program: {
    count: (id) => sql.type(counts)`
      select 0 as programs,
             (select count(*)::int from enrollments where program_id = ${id}) as enrollments,
             (select count(*)::int from sessions where program_id = ${id}) as sessions`,
    referencing: (id) => ({ enrollments: sql.fragment`program_id = ${id}`, sessions: sql.fragment`program_id = ${id}` }),
  },
  enrollment: {
    count: (id) => sql.type(counts)`
      select 0 as programs, 0 as enrollments, count(*)::int as sessions
      from sessions s join enrollments e on s.participant_id = e.participant_id and s.program_id = e.program_id
      where e.id = ${id}`,
    referencing: (id) => ({
      sessions: sql.fragment`(participant_id, program_id) = (select participant_id, program_id from enrollments where id = ${id})`,
    }),
  },
};

/** What a forced delete removed along with its root row, in the order it deleted them. */
export interface CascadedRows {
  readonly sessions: readonly SessionRecord[];
  readonly enrollments: readonly EnrollmentRecord[];
  readonly programs: readonly ProgramRecord[];
}

export const referenceRepository = {
  /** How many rows of each kind reference the row (zero counts included). */
  async count(db: CommonQueryMethods, kind: ReferencedKind, id: string): Promise<ReferenceCounts> {
    const row = await db.one(GRAPH[kind].count(id));
    const { programs, enrollments, sessions } = row;
    return kind === 'profile' ? { programs, enrollments, sessions } : kind === 'program' ? { enrollments, sessions } : { sessions };
  },

  /**
   * Deletes every row that references the row, directly or through another,
   * so that it can be deleted: locks them all first (programs, enrollments,
   * sessions, each in id order), then deletes sessions, enrollments and
   * programs, in the order the foreign keys require.
   */
  async deleteReferencing(db: CommonQueryMethods, kind: ReferencedKind, id: string): Promise<CascadedRows> {
    const referencing = GRAPH[kind].referencing(id);
    const tables = REFERENCING_TABLES.filter((t) => referencing[t] !== undefined);
    for (const table of tables) await db.query(lockAll(table, referencing[table]!));
    // Bottom up, as the foreign keys require; the deleted rows are the cascade's Deleted events.
    const sessions = referencing.sessions === undefined ? [] : await sessionRepository.deleteWhere(db, referencing.sessions);
    const enrollments = referencing.enrollments === undefined ? [] : await enrollmentRepository.deleteWhere(db, referencing.enrollments);
    const programs = referencing.programs === undefined ? [] : await programRepository.deleteWhere(db, referencing.programs);
    return { sessions, enrollments, programs };
  },
};
