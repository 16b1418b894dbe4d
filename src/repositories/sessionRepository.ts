import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { FailedPreconditionError } from '../domain/errors';
import type { PageCursor } from '../domain/PageTokenCodec';
import type { NewSession, SessionPatch, SessionRecord, SessionStatus } from '../domain/session';
import { touchesSchedule } from '../domain/session';
import { guarded, type ViolationTable } from './constraintViolations';
import { equalities, timestamptz, versionedTable } from './versionedTable';

const sessionRow = z.object({
  id: z.string(),
  program_id: z.string(),
  coach_id: z.string(),
  participant_id: z.string(),
  scheduled_start: z.number(),
  duration_minutes: z.number(),
  status: z.enum(['SCHEDULED', 'COMPLETED', 'CANCELLED', 'NO_SHOW']),
  notes: z.string(),
  completed_time: z.number().nullable(),
  create_time: z.number(),
  update_time: z.number(),
  version: z.number(),
});

const table = versionedTable({
  resource: 'session',
  table: 'sessions',
  row: sessionRow,
  orderBy: 'scheduled_start',
  toRecord: (row): SessionRecord => ({
    id: row.id,
    programId: row.program_id,
    coachId: row.coach_id,
    participantId: row.participant_id,
    scheduledStart: new Date(row.scheduled_start),
    durationMinutes: row.duration_minutes,
    status: row.status,
    notes: row.notes,
    completedTime: row.completed_time === null ? undefined : new Date(row.completed_time),
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
    version: row.version,
  }),
});

const SESSION_PREFIX = 'session_';
// The updated row's own columns (RETURNING names no alias), under the same names as `beside`.
const returnedBeside = table.beside(SESSION_PREFIX).columns;

const doubleBooked = (who: 'coach' | 'participant') => (cause: unknown) =>
  new FailedPreconditionError('DOUBLE_BOOKED', `the ${who} already has a session at an overlapping time`, { cause, metadata: { booked: who } });

/** What the database refuses on any write of a session, as domain errors. */
const VIOLATIONS: ViolationTable = {
  sessions_coach_no_overlap: doubleBooked('coach'),
  sessions_participant_no_overlap: doubleBooked('participant'),
  sessions_coach_fkey: (cause) => new FailedPreconditionError('NOT_A_COACH', 'coach_id is not a profile with role COACH', { cause }),
  sessions_enrollment_fkey: (cause) => new FailedPreconditionError('NOT_ENROLLED', 'the participant is not enrolled in the program', { cause }),
};

/** A new session's columns, each typed (a SELECT list, as in `insertion`, does not take the columns' types). */
const newRow = (input: NewSession): Record<string, FragmentSqlToken> => ({
  program_id: sql.fragment`${input.programId}::uuid`,
  coach_id: sql.fragment`${input.coachId}::uuid`,
  participant_id: sql.fragment`${input.participantId}::uuid`,
  scheduled_start: timestamptz(input.scheduledStart),
  duration_minutes: sql.fragment`${input.durationMinutes}::integer`,
  notes: sql.fragment`${input.notes}::text`,
});

/** Filters of ListSessions; the range is [from, until). */
export interface SessionFilter {
  readonly programId?: string;
  readonly coachId?: string;
  readonly participantId?: string;
  readonly status?: SessionStatus;
  readonly from?: Date;
  readonly until?: Date;
}

/** Session rows. Every function takes a connection, so it runs on the pool or in a transaction. */
export const sessionRepository = {
  insert(db: CommonQueryMethods, input: NewSession): Promise<SessionRecord> {
    return guarded(table.insert(db, newRow(input)), VIOLATIONS);
  },

  /**
   * The statement that inserts the session once per row of `source` (a FROM
   * clause over the caller's WITH items: the locks a booking takes first)
   * and returns it as `session_<column>` (`beside`): for the caller to send
   * with its locks, in one round trip, through `refusals`.
   */
  insertion(input: NewSession, source: FragmentSqlToken): FragmentSqlToken {
    return table.insertStatement(newRow(input), returnedBeside, source);
  },

  /** Runs a statement that writes a session, with the database's refusals (double booking, roles, enrollment) as their domain errors. */
  refusals<T>(statement: Promise<T>): Promise<T> {
    return guarded(statement, VIOLATIONS);
  },

  findById: table.findById,

  /** One page in (scheduled_start, id) order, after the cursor. */
  list(db: CommonQueryMethods, filter: SessionFilter, after: PageCursor | undefined, limit: number): Promise<SessionRecord[]> {
    const conditions = equalities({ program_id: filter.programId, coach_id: filter.coachId, participant_id: filter.participantId, status: filter.status });
    if (filter.from !== undefined) conditions.push(sql.fragment`scheduled_start >= ${timestamptz(filter.from)}`);
    if (filter.until !== undefined) conditions.push(sql.fragment`scheduled_start < ${timestamptz(filter.until)}`);
    return table.list(db, conditions, after, limit);
  },

  /**
   * Applies the patch when the version matches; a patch that moves or
   * re-statuses the session also requires it not to be COMPLETED. Undefined
   * when no row matched (missing, stale or completed).
   */
  update(db: CommonQueryMethods, id: string, version: number, patch: SessionPatch): Promise<SessionRecord | undefined> {
    const sets: FragmentSqlToken[] = [];
    if (patch.scheduledStart !== undefined) sets.push(sql.fragment`scheduled_start = ${timestamptz(patch.scheduledStart)}`);
    if (patch.durationMinutes !== undefined) sets.push(sql.fragment`duration_minutes = ${patch.durationMinutes}`);
    if (patch.status !== undefined) sets.push(sql.fragment`status = ${patch.status}`);
    if (patch.notes !== undefined) sets.push(sql.fragment`notes = ${patch.notes}`);
    const conditions = touchesSchedule(patch) ? [sql.fragment`status <> 'COMPLETED'`] : [];
    return guarded(table.update(db, id, version, sets, conditions), VIOLATIONS);
  },

  /** The row of sessions `s` as `session_<column>`, beside another table's (CompleteSession's statements, enrollmentRepository). */
  beside: table.beside(SESSION_PREFIX, 's'),

  /**
   * The statement that marks a SCHEDULED session of this version COMPLETED
   * now (empty notes keep the current ones) and returns its row as
   * `session_<column>` (`beside`), or nothing when no row matched: for the
   * caller to send with the enrollment's count, in one round trip.
   */
  completion(id: string, version: number, notes: string): FragmentSqlToken {
    const sets = [sql.fragment`status = 'COMPLETED'`, sql.fragment`completed_time = now()`];
    if (notes !== '') sets.push(sql.fragment`notes = ${notes}`);
    return table.updateStatement(id, version, sets, [sql.fragment`status = 'SCHEDULED'`], returnedBeside);
  },

  /** The participant's earliest SCHEDULED session in the program that has not ended yet. */
  nextScheduled(db: CommonQueryMethods, participantId: string, programId: string): Promise<SessionRecord | undefined> {
    const conditions = equalities({ participant_id: participantId, program_id: programId, status: 'SCHEDULED' });
    return table.findOne(db, [...conditions, sql.fragment`upper(period) > now()`]);
  },

  /** When the participant's sessions in the program last changed (undefined: none), and the database's now(). */
  async lastChange(db: CommonQueryMethods, participantId: string, programId: string): Promise<{ lastChange: Date | undefined; now: Date }> {
    const row = await db.one(sql.type(z.object({ last_change: z.number().nullable(), now: z.number() }))`
      select max(update_time) as last_change,
             -- On a standby the data is as of its last replayed commit, not as of now.
             case when pg_is_in_recovery() then coalesce(pg_last_xact_replay_timestamp(), now()) else now() end as now
      from sessions where participant_id = ${participantId} and program_id = ${programId}`);
    return { lastChange: row.last_change === null ? undefined : new Date(row.last_change), now: new Date(row.now) };
  },

  delete: table.delete,
  deleteWhere: table.deleteWhere,
};
