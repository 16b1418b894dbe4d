/**
 * The SQL the service sends for each read workload (as slonik renders it:
 * one parameterised statement), used verbatim by the bare baseline server and
 * the raw `pg` client so that every target does the same database work.
 */
export const PROFILE_COLUMNS = 'id, role, email, display_name, timezone, bio, create_time, update_time, version';

export const GET_PROFILE_SQL = `select ${PROFILE_COLUMNS} from profiles where id = $1`;

/** ListProfiles, first page filtered by role (limit is page size + 1, to tell whether more exist). */
export const LIST_PROFILES_SQL = `select ${PROFILE_COLUMNS} from profiles where true and role = $1 order by create_time, id limit $2`;

export const SESSION_COLUMNS =
  'id, program_id, coach_id, participant_id, scheduled_start, duration_minutes, status, notes, completed_time, create_time, update_time, version';

/** ListSessions, first page of one coach's SCHEDULED sessions (limit is page size + 1). */
export const LIST_SESSIONS_SQL = `select ${SESSION_COLUMNS} from sessions where true and coach_id = $1 and status = $2 order by scheduled_start, id limit $3`;
