import type { CommonQueryMethods } from 'slonik';
import { FailedPreconditionError } from '../domain/errors';
import type { ProfileRecord, ProfileRole } from '../domain/profile';
import type { ProgramRecord } from '../domain/program';
import { profileRepository } from '../repositories/profileRepository';
import { programRepository } from '../repositories/programRepository';
import type { RowLock } from '../repositories/versionedTable';

/**
 * The profile a new row will reference, which must exist and have `role`.
 * Read FOR KEY SHARE, so it cannot be deleted before the caller commits
 * (role is immutable, so the check stays true).
 */
export async function requireProfile(tx: CommonQueryMethods, id: string, role: ProfileRole): Promise<ProfileRecord> {
  const profile = await profileRepository.findById(tx, id, 'key share');
  if (profile === undefined) throw new FailedPreconditionError(`${role}_NOT_FOUND`, `${role.toLowerCase()} ${id} not found`, { metadata: { id } });
  if (profile.role !== role) {
    throw new FailedPreconditionError(`NOT_A_${role}`, `profile ${id} has role ${profile.role}, not ${role}`, { metadata: { id, role: profile.role } });
  }
  return profile;
}

/** The program a new row will reference, which must exist; locked as asked so its state holds until commit. */
export async function requireProgram(tx: CommonQueryMethods, id: string, lock: RowLock): Promise<ProgramRecord> {
  const program = await programRepository.findById(tx, id, lock);
  if (program === undefined) throw new FailedPreconditionError('PROGRAM_NOT_FOUND', `program ${id} not found`, { metadata: { id } });
  return program;
}
