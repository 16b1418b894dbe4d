import type { ProfileRecord, ProfileRole } from '../domain/profile';
import { Role, type Profile } from '../generated/coaching/v1/profile';
import { toEtag } from '../domain/etag';
import { timestampOf } from './timestamps';

const ROLE_TO_PROTO: Record<ProfileRole, Role> = { COACH: Role.ROLE_COACH, PARTICIPANT: Role.ROLE_PARTICIPANT };

/** The stored role for a proto role, or undefined for ROLE_UNSPECIFIED and unknown numbers. */
export function roleFromProto(role: Role): ProfileRole | undefined {
  if (role === Role.ROLE_COACH) return 'COACH';
  if (role === Role.ROLE_PARTICIPANT) return 'PARTICIPANT';
  return undefined;
}

export function profileToProto(p: ProfileRecord): Profile {
  return {
    id: p.id,
    role: ROLE_TO_PROTO[p.role],
    email: p.email,
    displayName: p.displayName,
    timezone: p.timezone,
    bio: p.bio,
    createTime: timestampOf(p.createTime),
    updateTime: timestampOf(p.updateTime),
    etag: toEtag(p.version),
  };
}
