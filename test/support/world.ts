import { randomUUID } from 'node:crypto';
import { LOCK_ORDER } from '../../src/repositories/lockOrder';
import { Enrollment } from '../../src/generated/coaching/v1/enrollment';
import { Profile, Role } from '../../src/generated/coaching/v1/profile';
import { Program, ProgramStatus } from '../../src/generated/coaching/v1/program';
import { Session } from '../../src/generated/coaching/v1/session';
import type { coachingApi } from './grpcClient';
import type { Timestamp } from '../../src/generated/google/protobuf/timestamp';
import { ts } from './timestamps';

type Api = ReturnType<typeof coachingApi>;

/** An instant in a far-future week, `hours` after its start: tests book slots there without colliding with now(). */
export function at(hours: number): Timestamp {
  return ts(atDate(hours));
}

/** The same instant as a Date (for SQL and arithmetic). */
export function atDate(hours: number): Date {
  return new Date(Date.UTC(2031, 0, 6, 8) + Math.round(hours * 60) * 60_000);
}

/**
 * Fixtures built through the public API, so every test starts from data the
 * service itself accepted. Each call makes fresh people (unique emails), so
 * tests in one file do not book each other's slots.
 */
export function world(api: Api) {
  const person = async (role: Role, name: string): Promise<Profile> => {
    const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
    const profile = Profile.fromPartial({ role, email, displayName: name, timezone: 'Europe/Berlin' });
    return (await api.ok('createProfile', { profile, requestId: '' })).profile!;
  };

  return {
    coach: (name = 'Coach') => person(Role.ROLE_COACH, name),
    participant: (name = 'Participant') => person(Role.ROLE_PARTICIPANT, name),

    async program(coachId: string, fields: Partial<Program> = {}): Promise<Program> {
      const program = Program.fromPartial({ coachId, title: 'Leading teams', totalSessions: 3, status: ProgramStatus.PROGRAM_STATUS_ACTIVE, ...fields });
      return (await api.ok('createProgram', { program, requestId: '' })).program!;
    },

    async enroll(participantId: string, programId: string): Promise<Enrollment> {
      return (await api.ok('createEnrollment', { enrollment: Enrollment.fromPartial({ participantId, programId }), requestId: '' })).enrollment!;
    },

    async session(fields: { programId: string; coachId: string; participantId: string; start: Timestamp; minutes?: number; notes?: string }): Promise<Session> {
      const session = Session.fromPartial({ ...fields, scheduledStart: fields.start, durationMinutes: fields.minutes ?? 60 });
      return (await api.ok('createSession', { session, requestId: '' })).session!;
    },

    /** A coach, a participant, an ACTIVE program of `totalSessions` and the participant's enrollment in it. */
    async enrolled(totalSessions = 3) {
      const coach = await person(Role.ROLE_COACH, 'Coach');
      const participant = await person(Role.ROLE_PARTICIPANT, 'Participant');
      const program = await this.program(coach.id, { totalSessions });
      const enrollment = await this.enroll(participant.id, program.id);
      const book = (start: Timestamp, minutes = 60) =>
        this.session({ programId: program.id, coachId: coach.id, participantId: participant.id, start, minutes });
      return { coach, participant, program, enrollment, book };
    },
  };
}

/** Row counts of every table the service writes (LOCK_ORDER, declared once), to assert what a failed call did not write. */
export async function tableCounts(query: (text: string) => Promise<Record<string, unknown>[]>): Promise<Record<string, number>> {
  const [row] = await query(`select ${LOCK_ORDER.map((table) => `(select count(*) from ${table})::int as ${table}`).join(', ')}`);
  return row as Record<string, number>;
}
