import { randomUUID } from 'node:crypto';
import { Enrollment, EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import { ListSessionsRequest } from '../src/generated/coaching/v1/coaching_service';
import { Profile, Role } from '../src/generated/coaching/v1/profile';
import { Program, ProgramStatus } from '../src/generated/coaching/v1/program';
import { Session, SessionStatus } from '../src/generated/coaching/v1/session';
import { useHarness } from './support/harness';
import { ts } from './support/timestamps';

const h = useHarness();

it('coach creates a program, participant enrolls, sessions are scheduled and completed one by one until the enrollment is COMPLETED', async () => {
  const { api } = h;
  const person = async (role: Role, displayName: string) =>
    (
      await api.ok('createProfile', {
        profile: Profile.fromPartial({ role, displayName, email: `${randomUUID()}@example.com`, timezone: 'Europe/Berlin' }),
        requestId: randomUUID(),
      })
    ).profile!;
  const coach = await person(Role.ROLE_COACH, 'Ada');
  const participant = await person(Role.ROLE_PARTICIPANT, 'Lin');

  // The coach drafts a three-session program and opens it.
  const draft = (
    await api.ok('createProgram', {
      program: Program.fromPartial({ coachId: coach.id, title: 'New Manager Foundations', totalSessions: 3 }),
      requestId: randomUUID(),
    })
  ).program!;
  expect(draft.status).toBe(ProgramStatus.PROGRAM_STATUS_DRAFT);
  const program = (await api.ok('updateProgram', { program: { ...draft, status: ProgramStatus.PROGRAM_STATUS_ACTIVE }, updateMask: ['status'] })).program!;

  // The participant enrolls.
  const enrollment = (
    await api.ok('createEnrollment', { enrollment: Enrollment.fromPartial({ participantId: participant.id, programId: program.id }), requestId: randomUUID() })
  ).enrollment!;
  expect(enrollment).toMatchObject({ status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE, completedSessions: 0, progressPercent: 0 });

  // Three weekly sessions, starting tomorrow.
  const week = 7 * 86_400_000;
  const start = Date.now() + 86_400_000;
  const sessions: Session[] = [];
  for (let i = 0; i < 3; i++) {
    const session = Session.fromPartial({
      programId: program.id,
      coachId: coach.id,
      participantId: participant.id,
      scheduledStart: ts(start + i * week),
      durationMinutes: 50,
    });
    sessions.push((await api.ok('createSession', { session, requestId: randomUUID() })).session!);
  }
  const listed = await api.ok('listSessions', ListSessionsRequest.fromPartial({ participantId: participant.id }));
  expect(listed.sessions.map((s) => s.id)).toEqual(sessions.map((s) => s.id));

  // Completed one by one; the progress screen follows.
  const expected = [
    { completedSessions: 1, percentComplete: 33, status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE },
    { completedSessions: 2, percentComplete: 66, status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE },
    { completedSessions: 3, percentComplete: 100, status: EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED },
  ];
  expect((await api.ok('getProgramProgress', { participantId: participant.id, programId: program.id })).progress!.nextSession?.id).toBe(sessions[0]!.id);
  for (const [i, session] of sessions.entries()) {
    const done = await api.ok('completeSession', { id: session.id, etag: session.etag, requestId: randomUUID(), notes: `Session ${i + 1} notes` });
    expect(done.session!.status).toBe(SessionStatus.SESSION_STATUS_COMPLETED);
    const progress = (await api.ok('getProgramProgress', { participantId: participant.id, programId: program.id })).progress!;
    const { status, ...counts } = expected[i]!;
    expect(progress).toMatchObject({ ...counts, totalSessions: 3 });
    expect(progress.enrollment!.status).toBe(status);
    expect(progress.enrollment).toEqual(done.enrollment);
    expect(progress.nextSession?.id).toBe(sessions[i + 1]?.id);
  }

  const finished = await api.ok('listEnrollments', {
    pageSize: 0,
    pageToken: '',
    participantId: participant.id,
    programId: '',
    status: EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED,
  });
  expect(finished.enrollments).toHaveLength(1);
  expect(finished.enrollments[0]).toMatchObject({ id: enrollment.id, completedSessions: 3, progressPercent: 100 });
  const completed = await api.ok('listSessions', ListSessionsRequest.fromPartial({ programId: program.id, status: SessionStatus.SESSION_STATUS_COMPLETED }));
  expect(completed.sessions.map((s) => s.notes)).toEqual(['Session 1 notes', 'Session 2 notes', 'Session 3 notes']);
});
