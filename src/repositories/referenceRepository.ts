import { sql, type CommonQueryMethods, type QuerySqlToken } from 'slonik';
import { z } from 'zod';
import type { ReferenceCounts } from '../domain/errors';

/** Rows other rows reference (restrictive foreign keys guard each of them). */
export type ReferencedKind = 'profile' | 'program' | 'enrollment';

const counts = z.object({ programs: z.number(), enrollments: z.number(), sessions: z.number() });

/**
 * The reference graph in one place: who points at a profile, program or
 * enrollment, and the explicit cascade a forced delete performs. Nothing
 * cascades in the database itself; this is the only place rows are removed
 * because something they reference goes away.
 */
const GRAPH: Record<ReferencedKind, { count: (id: string) => QuerySqlToken<typeof counts>; cascade: (id: string) => QuerySqlToken[] }> = {
  profile: {
    // Direct references: a coach's programs and sessions, a participant's enrollments and sessions.
    count: (id) => sql.type(counts)`
      select (select count(*)::int from programs where coach_id = ${id}) as programs,
             (select count(*)::int from enrollments where participant_id = ${id}) as enrollments,
             (select count(*)::int from sessions where coach_id = ${id} or participant_id = ${id}) as sessions`,
    // Sessions first (they reference enrollments), then enrollments, then the coach's programs.
    cascade: (id) => [
      sql.unsafe`delete from sessions
                 where coach_id = ${id} or participant_id = ${id} or program_id in (select id from programs where coach_id = ${id})`,
      sql.unsafe`delete from enrollments where participant_id = ${id} or program_id in (select id from programs where coach_id = ${id})`,
      sql.unsafe`delete from programs where coach_id = ${id}`,
    ],
  },
  program: {
    count: (id) => sql.type(counts)`
      select 0 as programs,
             (select count(*)::int from enrollments where program_id = ${id}) as enrollments,
             (select count(*)::int from sessions where program_id = ${id}) as sessions`,
    cascade: (id) => [sql.unsafe`delete from sessions where program_id = ${id}`, sql.unsafe`delete from enrollments where program_id = ${id}`],
  },
  enrollment: {
    count: (id) => sql.type(counts)`
      select 0 as programs, 0 as enrollments, count(*)::int as sessions
      from sessions s join enrollments e on s.participant_id = e.participant_id and s.program_id = e.program_id
      where e.id = ${id}`,
    cascade: (id) => [
      sql.unsafe`delete from sessions s using enrollments e
                 where e.id = ${id} and s.participant_id = e.participant_id and s.program_id = e.program_id`,
    ],
  },
};

export const referenceRepository = {
  /** How many rows of each kind reference the row (zero counts included). */
  async count(db: CommonQueryMethods, kind: ReferencedKind, id: string): Promise<ReferenceCounts> {
    const row = await db.one(GRAPH[kind].count(id));
    const { programs, enrollments, sessions } = row;
    return kind === 'profile' ? { programs, enrollments, sessions } : kind === 'program' ? { enrollments, sessions } : { sessions };
  },

  /** Deletes every row that references the row, directly or through another, so that it can be deleted. */
  async deleteReferencing(db: CommonQueryMethods, kind: ReferencedKind, id: string): Promise<void> {
    for (const statement of GRAPH[kind].cascade(id)) await db.query(statement);
  },
};
