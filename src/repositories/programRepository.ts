import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { FailedPreconditionError } from '../domain/errors';
import type { NewProgram, ProgramPatch, ProgramRecord, ProgramStatus } from '../domain/program';
import type { PageCursor } from '../domain/PageTokenCodec';
import { guarded } from './constraintViolations';
import { equalities, versionedTable } from './versionedTable';

const programRow = z.object({
  id: z.string(),
  coach_id: z.string(),
  title: z.string(),
  description: z.string(),
  status: z.enum(['DRAFT', 'ACTIVE', 'ARCHIVED']),
  total_sessions: z.number(),
  create_time: z.number(),
  update_time: z.number(),
  version: z.number(),
});

const table = versionedTable({
  resource: 'program',
  table: 'programs',
  row: programRow,
  orderBy: 'create_time',
  toRecord: (row): ProgramRecord => ({
    id: row.id,
    coachId: row.coach_id,
    title: row.title,
    description: row.description,
    status: row.status,
    totalSessions: row.total_sessions,
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
    version: row.version,
  }),
});

/** Program rows. Every function takes a connection, so it runs on the pool or in a transaction. */
export const programRepository = {
  insert(db: CommonQueryMethods, input: NewProgram): Promise<ProgramRecord> {
    const values = {
      coach_id: input.coachId,
      title: input.title,
      description: input.description,
      status: input.status,
      total_sessions: input.totalSessions,
    };
    // The service checked the coach under a lock; this is the database's own guard.
    return guarded(table.insert(db, values), {
      programs_coach_fkey: (cause) => new FailedPreconditionError('NOT_A_COACH', `coach_id ${input.coachId} is not a profile with role COACH`, { cause }),
    });
  },

  findById: table.findById,

  /** One page in (create_time, id) order, after the cursor. */
  list(db: CommonQueryMethods, filter: { coachId?: string; status?: ProgramStatus }, after: PageCursor | undefined, limit: number): Promise<ProgramRecord[]> {
    return table.list(db, equalities({ coach_id: filter.coachId, status: filter.status }), after, limit);
  },

  /**
   * Applies the patch when the version matches; undefined when no row
   * matched (missing or stale). Enrollments hold a foreign key on
   * (program_id, total_sessions), so the database itself refuses to change
   * total_sessions while anyone is enrolled (the service checks first).
   */
  update(db: CommonQueryMethods, id: string, version: number, patch: ProgramPatch): Promise<ProgramRecord | undefined> {
    const sets = [];
    if (patch.title !== undefined) sets.push(sql.fragment`title = ${patch.title}`);
    if (patch.description !== undefined) sets.push(sql.fragment`description = ${patch.description}`);
    if (patch.status !== undefined) sets.push(sql.fragment`status = ${patch.status}`);
    if (patch.totalSessions !== undefined) sets.push(sql.fragment`total_sessions = ${patch.totalSessions}`);
    return guarded(table.update(db, id, version, sets), {
      enrollments_program_total_sessions_fkey: (cause) =>
        new FailedPreconditionError('PROGRAM_HAS_ENROLLMENTS', `total_sessions of program ${id} cannot change while participants are enrolled`, { cause }),
    });
  },

  delete: table.delete,
  deleteWhere: table.deleteWhere,
};
