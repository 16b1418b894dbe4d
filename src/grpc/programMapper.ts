import { toEtag } from '../domain/etag';
import type { ProgramRecord, ProgramStatus as StoredStatus } from '../domain/program';
import { ProgramStatus, type Program } from '../generated/coaching/v1/program';
import { enumMapping } from './enumMapping';
import { timestampOf } from './timestamps';

export const programStatus = enumMapping<StoredStatus, ProgramStatus>({
  DRAFT: ProgramStatus.PROGRAM_STATUS_DRAFT,
  ACTIVE: ProgramStatus.PROGRAM_STATUS_ACTIVE,
  ARCHIVED: ProgramStatus.PROGRAM_STATUS_ARCHIVED,
});

export function programToProto(p: ProgramRecord): Program {
  return {
    id: p.id,
    coachId: p.coachId,
    title: p.title,
    description: p.description,
    status: programStatus.toProto(p.status),
    totalSessions: p.totalSessions,
    createTime: timestampOf(p.createTime),
    updateTime: timestampOf(p.updateTime),
    etag: toEtag(p.version),
  };
}
