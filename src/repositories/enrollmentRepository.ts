import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { AlreadyExistsError, FailedPreconditionError } from '../domain/errors';
import type { EnrollmentPatch, EnrollmentRecord, EnrollmentStatus, NewEnrollment } from '../domain/enrollment';
import type { PageCursor } from '../domain/PageTokenCodec';
import { guarded } from './constraintViolations';
import { equalities, versionedTable, type RowLock } from './versionedTable';

const enrollmentRow = z.object({
  id: z.string(),
  participant_id: z.string(),
  program_id: z.string(),
  status: z.enum(['ACTIVE', 'COMPLETED', 'WITHDRAWN']),
  completed_sessions: z.number(),
  progress_percent: z.number(),
  last_activity_time: z.number(),
  create_time: z.number(),
  update_time: z.number(),
  version: z.number(),
});

const table = versionedTable({
  resource: 'enrollment',
  table: 'enrollments',
  row: enrollmentRow,
  orderBy: 'create_time',
  toRecord: (row): EnrollmentRecord => ({
    id: row.id,
    participantId: row.participant_id,
    programId: row.program_id,
    status: row.status,
    completedSessions: row.completed_sessions,
    progressPercent: row.progress_percent,
    lastActivityTime: new Date(row.last_activity_time),
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
    version: row.version,
  }),
});

/** Enrollment rows. Every function takes a connection, so it runs on the pool or in a transaction. */
export const enrollmentRepository = {
  insert(db: CommonQueryMethods, input: NewEnrollment): Promise<EnrollmentRecord> {
    return guarded(table.insert(db, { participant_id: input.participantId, program_id: input.programId }), {
      enrollments_participant_program_key: (cause) =>
        new AlreadyExistsError('ENROLLMENT_EXISTS', `participant ${input.participantId} is already enrolled in program ${input.programId}`, { cause }),
      enrollments_participant_fkey: (cause) =>
        new FailedPreconditionError('NOT_A_PARTICIPANT', `participant_id ${input.participantId} is not a profile with role PARTICIPANT`, { cause }),
      enrollments_program_fkey: (cause) => new FailedPreconditionError('PROGRAM_NOT_FOUND', `program ${input.programId} not found`, { cause }),
    });
  },

  findById: table.findById,

  /** The enrollment of a participant in a program (unique), optionally locked. */
  findByKey(db: CommonQueryMethods, participantId: string, programId: string, lock?: RowLock): Promise<EnrollmentRecord | undefined> {
    return table.findOne(db, equalities({ participant_id: participantId, program_id: programId }), lock);
  },

  /** One page in (create_time, id) order, after the cursor. */
  list(
    db: CommonQueryMethods,
    filter: { participantId?: string; programId?: string; status?: EnrollmentStatus },
    after: PageCursor | undefined,
    limit: number,
  ): Promise<EnrollmentRecord[]> {
    return table.list(db, equalities({ participant_id: filter.participantId, program_id: filter.programId, status: filter.status }), after, limit);
  },

  /** Applies the patch when the version matches and the enrollment is not COMPLETED; undefined otherwise. */
  update(db: CommonQueryMethods, id: string, version: number, patch: EnrollmentPatch): Promise<EnrollmentRecord | undefined> {
    const sets = patch.status === undefined ? [] : [sql.fragment`status = ${patch.status}`];
    return table.update(db, id, version, sets, [sql.fragment`status <> 'COMPLETED'`]);
  },

  /**
   * Counts one more completed session, in one statement: the increment is
   * computed from the row as locked by this UPDATE, so concurrent completions
   * queue on the row lock and none is lost. The enrollment becomes COMPLETED
   * when the count reaches the program's total_sessions; the percentage is
   * capped at 100. Undefined when there is no such enrollment that is not
   * WITHDRAWN.
   */
  async recordCompletion(db: CommonQueryMethods, participantId: string, programId: string): Promise<EnrollmentRecord | undefined> {
    const row = await db.maybeOne(sql.type(enrollmentRow)`
      update enrollments e set
        completed_sessions = e.completed_sessions + 1,
        progress_percent = least(100, (e.completed_sessions + 1) * 100 / p.total_sessions),
        status = case when e.completed_sessions + 1 >= p.total_sessions and e.status = 'ACTIVE' then 'COMPLETED' else e.status end,
        last_activity_time = now(),
        update_time = now(),
        version = e.version + 1
      from programs p
      where p.id = e.program_id and e.participant_id = ${participantId} and e.program_id = ${programId} and e.status <> 'WITHDRAWN'
      returning ${table.columns('e')}`);
    return row === null ? undefined : table.toRecord(row);
  },

  delete: table.delete,
};
