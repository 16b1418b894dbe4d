import type { EnrollmentRecord, EnrollmentStatus as StoredStatus, ProgramProgressRecord } from '../domain/enrollment';
import { toEtag } from '../domain/etag';
import { EnrollmentStatus, type Enrollment } from '../generated/coaching/v1/enrollment';
import type { ProgramProgress } from '../generated/coaching/v1/program_progress';
import { enumMapping } from './enumMapping';
import { sessionToProto } from './sessionMapper';
import { timestampOf } from './timestamps';

export const enrollmentStatus = enumMapping<StoredStatus, EnrollmentStatus>({
  ACTIVE: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE,
  COMPLETED: EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED,
  WITHDRAWN: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN,
});

export function enrollmentToProto(e: EnrollmentRecord): Enrollment {
  return {
    id: e.id,
    participantId: e.participantId,
    programId: e.programId,
    status: enrollmentStatus.toProto(e.status),
    completedSessions: e.completedSessions,
    progressPercent: e.progressPercent,
    lastActivityTime: timestampOf(e.lastActivityTime),
    createTime: timestampOf(e.createTime),
    updateTime: timestampOf(e.updateTime),
    etag: toEtag(e.version),
  };
}

export function progressToProto(p: ProgramProgressRecord): ProgramProgress {
  return {
    enrollment: enrollmentToProto(p.enrollment),
    completedSessions: p.completedSessions,
    totalSessions: p.totalSessions,
    percentComplete: p.percentComplete,
    nextSession: p.nextSession === undefined ? undefined : sessionToProto(p.nextSession),
    updateTime: timestampOf(p.updateTime),
    readTime: timestampOf(p.readTime),
  };
}
