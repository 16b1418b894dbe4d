import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type { CoachingServiceServer, ListSessionsRequest, ListSessionsResponse } from '../../src/generated/coaching/v1/coaching_service';
import { SessionStatus, type Session } from '../../src/generated/coaching/v1/session';
import { LIST_SESSIONS_SQL } from '../sql';
import { optionalTimestampOf, timestampOf } from '../../src/grpc/timestamps';

export interface SessionRow {
  id: string;
  program_id: string;
  coach_id: string;
  participant_id: string;
  scheduled_start: Date;
  duration_minutes: number;
  status: 'SCHEDULED' | 'COMPLETED' | 'CANCELLED' | 'NO_SHOW';
  notes: string;
  completed_time: Date | null;
  create_time: Date;
  update_time: Date;
  version: number;
}

const STATUS: Record<SessionRow['status'], SessionStatus> = {
  SCHEDULED: SessionStatus.SESSION_STATUS_SCHEDULED,
  COMPLETED: SessionStatus.SESSION_STATUS_COMPLETED,
  CANCELLED: SessionStatus.SESSION_STATUS_CANCELLED,
  NO_SHOW: SessionStatus.SESSION_STATUS_NO_SHOW,
};
const STATUS_NAME: Partial<Record<SessionStatus, SessionRow['status']>> = Object.fromEntries(
  Object.entries(STATUS).map(([name, value]) => [value, name as SessionRow['status']]),
);

/** A row as `pg` hands it (timestamps as Dates) to the response message: all the bare server does per row. */
export const toSession = (row: SessionRow): Session => ({
  id: row.id,
  programId: row.program_id,
  coachId: row.coach_id,
  participantId: row.participant_id,
  scheduledStart: timestampOf(row.scheduled_start),
  durationMinutes: row.duration_minutes,
  status: STATUS[row.status],
  notes: row.notes,
  completedTime: optionalTimestampOf(row.completed_time ?? undefined),
  createTime: timestampOf(row.create_time),
  updateTime: timestampOf(row.update_time),
  etag: `"v${row.version}"`,
});

/** ListSessions by coach and status (the bench's filter) straight on `pg`. */
export function createBaselineSessionHandlers(pool: Pool): Pick<CoachingServiceServer, 'listSessions'> {
  return {
    listSessions(call: ServerUnaryCall<ListSessionsRequest, ListSessionsResponse>, callback: sendUnaryData<ListSessionsResponse>) {
      const size = call.request.pageSize > 0 ? Math.min(call.request.pageSize, 100) : 50;
      pool.query<SessionRow>(LIST_SESSIONS_SQL, [call.request.coachId, STATUS_NAME[call.request.status] ?? 'SCHEDULED', size + 1]).then(
        (result) => callback(null, { sessions: result.rows.slice(0, size).map(toSession), nextPageToken: '' }),
        () => callback({ code: status.INTERNAL, details: 'internal error' }),
      );
    },
  };
}
