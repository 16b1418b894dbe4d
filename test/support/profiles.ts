import { randomUUID } from 'node:crypto';
import { Role, type Profile } from '../../src/generated/coaching/v1/profile';

/** A valid new profile (unique email unless given); fields not given take harmless defaults. */
export function newProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    id: '',
    role: Role.ROLE_PARTICIPANT,
    email: `person-${randomUUID().slice(0, 12)}@example.com`,
    displayName: 'Test Person',
    timezone: 'UTC',
    bio: '',
    createTime: undefined,
    updateTime: undefined,
    etag: '',
    ...overrides,
  };
}
