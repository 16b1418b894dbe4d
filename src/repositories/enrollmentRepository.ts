import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { AlreadyExistsError, FailedPreconditionError } from '../domain/errors';
import type { EnrollmentPatch, EnrollmentRecord, EnrollmentStatus, NewEnrollment } from '../domain/enrollment';
import type { PageCursor } from '../domain/PageTokenCodec';
import type { NewSession, SessionRecord } from '../domain/session';
import { guarded } from './constraintViolations';
import { sessionRepository } from './sessionRepository';
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

// The session's columns beside the enrollment's are checked by the schema too; they are read
// through sessionRepository.beside.toRecord, so the row's type need not name them.
const withSession = <T extends z.ZodObject>(row: T): T => row.extend(sessionRepository.beside.shape) as unknown as T;
const progressRow = withSession(enrollmentRow.extend({ total_sessions: z.number() }));
const completionRow = withSession(enrollmentRow);
// A booking's enrollment, and the session beside it when one was inserted.
const bookingRow = enrollmentRow.extend(sessionRepository.beside.nullableShape) as unknown as typeof enrollmentRow;

/** Where an enrollment stands against its program, as locked for a completion. */
export interface EnrollmentProgress {
  /** The whole enrollment as locked (its status and completed sessions; what a change records as "before"). */
  readonly record: EnrollmentRecord;
  /** The program's total_sessions (kept equal to it by a foreign key). */
  readonly totalSessions: number;
}

/** What CompleteSession locked (lockProgressOfSession): the enrollment's progress and the session, each as locked. */
export interface LockedCompletion {
  readonly progress: EnrollmentProgress;
  readonly session: SessionRecord;
}

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
  /**
   * Inserts an enrollment measured against `totalSessions`, the program's
   * total_sessions as the caller read it under a lock (a foreign key on
   * (program_id, total_sessions) holds the copy equal to the program's).
   */
  insert(db: CommonQueryMethods, input: NewEnrollment, totalSessions: number): Promise<EnrollmentRecord> {
    const programNotFound = (cause: unknown) => new FailedPreconditionError('PROGRAM_NOT_FOUND', `program ${input.programId} not found`, { cause });
    return guarded(table.insert(db, { participant_id: input.participantId, program_id: input.programId, total_sessions: totalSessions }), {
      enrollments_participant_program_key: (cause) =>
        new AlreadyExistsError('ENROLLMENT_EXISTS', `participant ${input.participantId} is already enrolled in program ${input.programId}`, { cause }),
      enrollments_participant_fkey: (cause) =>
        new FailedPreconditionError('NOT_A_PARTICIPANT', `participant_id ${input.participantId} is not a profile with role PARTICIPANT`, { cause }),
      enrollments_program_fkey: programNotFound,
      enrollments_program_total_sessions_fkey: programNotFound,
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
   * Locks a session's coach and participant (FOR SHARE, in id order), then
   * (FOR UPDATE) the enrollment the session counts toward, then the session
   * itself (FOR UPDATE), in one statement, and returns the enrollment's
   * progress and the session as locked; undefined when the session does not
   * exist. Profiles, then enrollments, then sessions is the lock order
   * (lockOrder.ts), as in a forced DeleteEnrollment. The row locks are taken
   * in the order the locking clauses name the tables (PostgreSQL's LockRows
   * follows it): test/lockOrderInOneStatement.test.ts holds a real lock to
   * check it. A row that changed while the statement waited for its lock is
   * returned as it is now (LockRows rechecks the latest versions).
   */
  async lockProgressOfSession(db: CommonQueryMethods, sessionId: string): Promise<LockedCompletion | undefined> {
    const row = await db.maybeOne(sql.type(progressRow)`
      select ${table.columns('e')}, e.total_sessions, ${sessionRepository.beside.columns}
      from sessions s
        join profiles first_person on first_person.id = least(s.coach_id, s.participant_id)
        join profiles second_person on second_person.id = greatest(s.coach_id, s.participant_id)
        join enrollments e on (e.participant_id, e.program_id) = (s.participant_id, s.program_id)
      where s.id = ${sessionId}
      for share of first_person, second_person
      for update of e
      for update of s`);
    if (row === null) return undefined;
    return { progress: { record: table.toRecord(row), totalSessions: row.total_sessions }, session: sessionRepository.beside.toRecord(row) };
  },

  /**
   * A booking in one statement: locks the coach and the participant (FOR NO
   * KEY UPDATE, in id order), the program (FOR KEY SHARE) and then the
   * participant's enrollment in it (FOR SHARE), in the lock order
   * (lockOrder.ts; LockRows takes the row marks in the order the locking
   * clauses name them; test/lockOrderInOneStatement.test.ts), then, when the
   * enrollment is ACTIVE, inserts the session (sessionRepository.insertion:
   * it reads the locked rows, so it runs after the locks). Returns the
   * enrollment as locked and the session if it was inserted. Undefined when
   * any of them is missing or a person has another role (nothing inserted):
   * the caller then takes the locks one by one to name the reason. The
   * database's refusals of the session (double booking) are domain errors.
   */
  async lockForBooking(db: CommonQueryMethods, input: NewSession): Promise<{ enrollment: EnrollmentRecord; session: SessionRecord | undefined } | undefined> {
    const { coachId, participantId, programId } = input;
    const row = await sessionRepository.refusals(
      db.maybeOne(sql.type(bookingRow)`
        with locked as (
          select ${table.columns('e')}
          from profiles first_person
            join profiles second_person on second_person.id = greatest(${coachId}::uuid, ${participantId}::uuid)
            join programs p on p.id = ${programId}
            join enrollments e on (e.participant_id, e.program_id) = (${participantId}, p.id)
          where first_person.id = least(${coachId}::uuid, ${participantId}::uuid)
            and (case when first_person.id = ${coachId}::uuid then first_person.role else second_person.role end) = 'COACH'
            and (case when second_person.id = ${participantId}::uuid then second_person.role else first_person.role end) = 'PARTICIPANT'
          for no key update of first_person, second_person
          for key share of p
          for share of e
        ), booked as (${sessionRepository.insertion(input, sql.fragment`from locked where locked.status = 'ACTIVE'`)})
        select locked.*, booked.* from locked left join booked on true`),
    );
    return row === null ? undefined : { enrollment: table.toRecord(row), session: sessionRepository.beside.toRecordIfAny(row) };
  },

  /**
   * Counts one more completed session, computed from the row as locked, so
   * concurrent completions queue on the row lock and none is lost. The
   * enrollment becomes COMPLETED when the count reaches total_sessions. The
   * caller checked that the count is below it (the database refuses more,
   * too). `session` is the session's own update (sessionRepository.completion):
   * both run in one statement (one round trip) and count only together; the
   * result is undefined when either matched no row.
   */
  async recordCompletion(
    db: CommonQueryMethods,
    id: string,
    session: FragmentSqlToken,
  ): Promise<{ enrollment: EnrollmentRecord; session: SessionRecord } | undefined> {
    const row = await db.maybeOne(sql.type(completionRow)`
      with completed as (${session})
      update enrollments e set
        completed_sessions = completed_sessions + 1,
        progress_percent = (completed_sessions + 1) * 100 / total_sessions,
        status = case when completed_sessions + 1 >= total_sessions and status = 'ACTIVE' then 'COMPLETED' else status end,
        last_activity_time = now(),
        update_time = now(),
        version = version + 1
      from completed
      where e.id = ${id}
      returning ${table.columns('e')}, completed.*`);
    return row === null ? undefined : { enrollment: table.toRecord(row), session: sessionRepository.beside.toRecord(row) };
  },

  delete: table.delete,
  deleteWhere: table.deleteWhere,
};
