import { toEtag } from '../domain/etag';
import type { SessionRecord, SessionStatus as StoredStatus } from '../domain/session';
import { SessionStatus, type Session } from '../generated/coaching/v1/session';
import { enumMapping } from './enumMapping';

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
    scheduledStart: s.scheduledStart,
    durationMinutes: s.durationMinutes,
    status: sessionStatus.toProto(s.status),
    notes: s.notes,
    completedTime: s.completedTime,
    createTime: s.createTime,
    updateTime: s.updateTime,
    etag: toEtag(s.version),
  };
}
