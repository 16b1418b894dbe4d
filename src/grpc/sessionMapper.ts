import { toEtag } from '../domain/etag';
import type { SessionRecord, SessionStatus as StoredStatus } from '../domain/session';
import { SessionStatus, type Session } from '../generated/coaching/v1/session';
import { enumMapping } from './enumMapping';
import { optionalTimestampOf, timestampOf } from './timestamps';

export const sessionStatus = enumMapping<StoredStatus, SessionStatus>({
  SCHEDULED: SessionStatus.SESSION_STATUS_SCHEDULED,
  COMPLETED: SessionStatus.SESSION_STATUS_COMPLETED,
  CANCELLED: SessionStatus.SESSION_STATUS_CANCELLED,
  NO_SHOW: SessionStatus.SESSION_STATUS_NO_SHOW,
});

export function sessionToProto(s: SessionRecord): Session {
  return {
    id: s.id,
    programId: s.programId,
    coachId: s.coachId,
    participantId: s.participantId,
    scheduledStart: timestampOf(s.scheduledStart),
    durationMinutes: s.durationMinutes,
    status: sessionStatus.toProto(s.status),
    notes: s.notes,
    completedTime: optionalTimestampOf(s.completedTime),
    createTime: timestampOf(s.createTime),
    updateTime: timestampOf(s.updateTime),
    etag: toEtag(s.version),
  };
}
