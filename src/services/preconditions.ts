import type { CommonQueryMethods } from 'slonik';
import { FailedPreconditionError } from '../domain/errors';
import type { ProfileRole } from '../domain/profile';
import type { ProgramRecord } from '../domain/program';
import { lockOrder, type ProfileLock } from '../repositories/lockOrder';
import { programRepository } from '../repositories/programRepository';
import type { RowLock } from '../repositories/versionedTable';

/**
 * The profiles a new row will reference, each of which must exist and have
 * its role. Locked in one statement, in id order (lockOrder.ts), at least
 * FOR KEY SHARE, so none can be deleted before the caller commits (role is
 * immutable, so the check stays true). Violations are reported in the order
 * given, e.g. the coach before the participant.
 */
export async function requirePeople(tx: CommonQueryMethods, wanted: readonly { id: string; role: ProfileRole }[], mode: ProfileLock): Promise<void> {
  const found = await lockOrder.profiles(
    tx,
    wanted.map((w) => w.id),
    mode,
  );
  for (const { id, role } of wanted) {
    const actual = found.get(id.toLowerCase());
    if (actual === undefined) throw new FailedPreconditionError(`${role}_NOT_FOUND`, `${role.toLowerCase()} ${id} not found`, { metadata: { id } });
    if (actual !== role)
      throw new FailedPreconditionError(`NOT_A_${role}`, `profile ${id} has role ${actual}, not ${role}`, { metadata: { id, role: actual } });
  }
}

/** The one profile a new row will reference, FOR KEY SHARE (see requirePeople). */
export function requireProfile(tx: CommonQueryMethods, id: string, role: ProfileRole): Promise<void> {
  return requirePeople(tx, [{ id, role }], 'key share');
}

/** The program a new row will reference, which must exist; locked as asked so its state holds until commit. */
export async function requireProgram(tx: CommonQueryMethods, id: string, lock: RowLock): Promise<ProgramRecord> {
  const program = await programRepository.findById(tx, id, lock);
  if (program === undefined) throw new FailedPreconditionError('PROGRAM_NOT_FOUND', `program ${id} not found`, { metadata: { id } });
  return program;
}
