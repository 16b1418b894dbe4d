import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { at } from './support/world';

const h = useHarness();

const exists = async (table: string, id: string) => (await h.db.query(`select 1 from ${table} where id = $1`, [id])).length === 1;

/**
 * Two coaches' programs that share a participant, with sessions: coach A
 * also holds one session in coach B's program. `bystander` rows belong to
 * neither coach A nor participant P.
 */
async function twoPrograms() {
  const coachA = await h.w.coach('A');
  const coachB = await h.w.coach('B');
  const p = await h.w.participant('P');
  const q = await h.w.participant('Q');
  const programA = await h.w.program(coachA.id);
  const programB = await h.w.program(coachB.id);
  const pInA = await h.w.enroll(p.id, programA.id);
  const qInA = await h.w.enroll(q.id, programA.id);
  const pInB = await h.w.enroll(p.id, programB.id);
  const qInB = await h.w.enroll(q.id, programB.id);
  const s = (programId: string, coachId: string, participantId: string, hour: number) => h.w.session({ programId, coachId, participantId, start: at(hour) });
  const sessions = {
    aP: await s(programA.id, coachA.id, p.id, 1),
    aQ: await s(programA.id, coachA.id, q.id, 2),
    bP: await s(programB.id, coachB.id, p.id, 3),
    bQbyA: await s(programB.id, coachA.id, q.id, 4), // coach A substitutes in B's program
    bQ: await s(programB.id, coachB.id, q.id, 5),
  };
  return { coachA, coachB, p, q, programA, programB, pInA, qInA, pInB, qInB, sessions };
}

describe('deleting a referenced profile', () => {
  it('is refused with PROFILE_IN_USE naming what references it, and deletes nothing', async () => {
    const t = await twoPrograms();
    const before = await h.counts();
    const coach = await h.api.call('deleteProfile', { id: t.coachA.id, etag: t.coachA.etag, force: false });
    const { errorInfo } = expectError(coach, status.FAILED_PRECONDITION, 'PROFILE_IN_USE');
    expect(errorInfo?.metadata).toEqual({ resource: 'profile', id: t.coachA.id, programs: '1', enrollments: '0', sessions: '3' });
    expect(coach.error!.details).toContain('1 program, 3 sessions');

    const participant = await h.api.call('deleteProfile', { id: t.p.id, etag: t.p.etag, force: false });
    expect(expectError(participant, status.FAILED_PRECONDITION, 'PROFILE_IN_USE').errorInfo?.metadata).toMatchObject({
      programs: '0',
      enrollments: '2',
      sessions: '2',
    });
    expect(await h.counts()).toEqual(before);
  });

  it('with force, removes the coach with their programs (enrollments and sessions included) and their sessions elsewhere, nothing else', async () => {
    const t = await twoPrograms();
    const before = await h.counts();
    await h.api.ok('deleteProfile', { id: t.coachA.id, etag: t.coachA.etag, force: true });
    expect(await exists('profiles', t.coachA.id)).toBe(false);
    expect(await exists('programs', t.programA.id)).toBe(false);
    for (const e of [t.pInA, t.qInA]) expect(await exists('enrollments', e.id)).toBe(false);
    for (const s of [t.sessions.aP, t.sessions.aQ, t.sessions.bQbyA]) expect(await exists('sessions', s.id)).toBe(false);
    // Untouched: the participants, coach B, B's program, its enrollments and B's own sessions.
    for (const id of [t.p.id, t.q.id, t.coachB.id]) expect(await exists('profiles', id)).toBe(true);
    expect(await exists('programs', t.programB.id)).toBe(true);
    for (const e of [t.pInB, t.qInB]) expect(await exists('enrollments', e.id)).toBe(true);
    for (const s of [t.sessions.bP, t.sessions.bQ]) expect(await exists('sessions', s.id)).toBe(true);
    expect(await h.counts()).toEqual({
      ...before,
      profiles: before.profiles! - 1,
      programs: before.programs! - 1,
      enrollments: before.enrollments! - 2,
      sessions: before.sessions! - 3,
    });
  });

  it('with force, removes a participant with their enrollments and sessions', async () => {
    const t = await twoPrograms();
    await h.api.ok('deleteProfile', { id: t.p.id, etag: t.p.etag, force: true });
    for (const e of [t.pInA, t.pInB]) expect(await exists('enrollments', e.id)).toBe(false);
    for (const s of [t.sessions.aP, t.sessions.bP]) expect(await exists('sessions', s.id)).toBe(false);
    for (const s of [t.sessions.aQ, t.sessions.bQ, t.sessions.bQbyA]) expect(await exists('sessions', s.id)).toBe(true);
  });

  it('still checks the etag first, even with force', async () => {
    const t = await twoPrograms();
    const before = await h.counts();
    expectError(await h.api.call('deleteProfile', { id: t.coachA.id, etag: '"v99"', force: true }), status.ABORTED, 'ETAG_MISMATCH');
    expectError(await h.api.call('deleteProfile', { id: randomUUID(), etag: '"v1"', force: true }), status.NOT_FOUND, 'NOT_FOUND');
    expect(await h.counts()).toEqual(before);
  });

  it('is refused by the database itself: the foreign keys restrict, nothing cascades', async () => {
    const t = await twoPrograms();
    await expect(h.db.query('delete from profiles where id = $1', [t.coachA.id])).rejects.toMatchObject({ code: '23503' });
    await expect(h.db.query('delete from programs where id = $1', [t.programA.id])).rejects.toMatchObject({ code: '23503' });
    await expect(h.db.query('delete from enrollments where id = $1', [t.pInA.id])).rejects.toMatchObject({
      code: '23503',
      constraint: 'sessions_enrollment_fkey',
    });
  });
});

describe('deleting a referenced program or enrollment', () => {
  it('refuses a program with enrollments (PROGRAM_IN_USE) and, with force, removes its enrollments and sessions only', async () => {
    const t = await twoPrograms();
    const before = await h.counts();
    const refused = await h.api.call('deleteProgram', { id: t.programB.id, etag: t.programB.etag, force: false });
    expect(expectError(refused, status.FAILED_PRECONDITION, 'PROGRAM_IN_USE').errorInfo?.metadata).toMatchObject({ enrollments: '2', sessions: '3' });
    expect(await h.counts()).toEqual(before);

    await h.api.ok('deleteProgram', { id: t.programB.id, etag: t.programB.etag, force: true });
    expect(await exists('programs', t.programB.id)).toBe(false);
    expect(await h.counts()).toEqual({ ...before, programs: before.programs! - 1, enrollments: before.enrollments! - 2, sessions: before.sessions! - 3 });
    expect(await exists('programs', t.programA.id)).toBe(true);
  });

  it('deletes an unreferenced program without force', async () => {
    const coach = await h.w.coach();
    const program = await h.w.program(coach.id);
    await h.api.ok('deleteProgram', { id: program.id, etag: program.etag, force: false });
    expect(await exists('programs', program.id)).toBe(false);
  });

  it('refuses an enrollment with sessions (ENROLLMENT_IN_USE) and, with force, removes its sessions only', async () => {
    const t = await twoPrograms();
    const refused = await h.api.call('deleteEnrollment', { id: t.qInB.id, etag: t.qInB.etag, force: false });
    expect(expectError(refused, status.FAILED_PRECONDITION, 'ENROLLMENT_IN_USE').errorInfo?.metadata).toMatchObject({ sessions: '2' });
    await h.api.ok('deleteEnrollment', { id: t.qInB.id, etag: t.qInB.etag, force: true });
    for (const s of [t.sessions.bQ, t.sessions.bQbyA]) expect(await exists('sessions', s.id)).toBe(false);
    expect(await exists('sessions', t.sessions.bP.id)).toBe(true);
    expect(await exists('enrollments', t.pInB.id)).toBe(true);
  });
});
