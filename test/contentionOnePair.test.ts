import { randomUUID } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Enrollment, EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import { Session } from '../src/generated/coaching/v1/session';
import { useHarness } from './support/harness';
import { waitFor } from './support/waitFor';
import { at } from './support/world';

/**
 * Every write that locks one coach and one participant (CompleteSession and
 * CreateSession in one statement each, UpdateSession, UpdateProfile on both
 * people, UpdateEnrollment, UpdateProgram) races on the same pair, round
 * after round, with retries off: no call ends in anything but a domain
 * answer, and PostgreSQL counts no deadlock.
 */
const h = useHarness({ env: { DB_RETRY_MAX_ATTEMPTS: '0', DB_MAX_CONNECTIONS: '16', DB_BULKHEAD_QUEUE: '500', DB_BULKHEAD_QUEUE_TIMEOUT_MS: '30000' } });

const outcome = (error: ServiceError | undefined): string =>
  error === undefined ? 'OK' : `${status[error.code]} ${String(error.metadata.get('x-error-reason')[0] ?? '(no reason)')}`;

it('mixes the pair-locking writes on one coach and participant without a deadlock', async () => {
  const deadlocks = async () => (await h.db.query<{ n: number }>('select deadlocks::int as n from pg_stat_database where datname = current_database()'))[0]!.n;
  const before = await deadlocks();
  const outcomes: string[] = [];
  const call = async (method: string, request: unknown) => {
    const r = await h.api.call(method as never, request, { deadlineMs: 30_000 });
    outcomes.push(`${method}: ${outcome((r as { error?: ServiceError }).error)}`);
    return r as { error?: ServiceError; response?: any };
  };
  const { coach, participant, program, enrollment, book } = await h.w.enrolled(100);
  for (let round = 0; round < 8; round++) {
    // The previous round's UpdateEnrollment may have won its race and withdrawn the participant: booking needs ACTIVE.
    const last = (await h.api.ok('getEnrollment', { id: enrollment.id })).enrollment!;
    if (last.status === EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN) {
      await h.api.ok('updateEnrollment', { enrollment: { ...last, status: EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE }, updateMask: ['status'] });
    }
    const sessions = [];
    for (let i = 0; i < 6; i++) sessions.push(await book(at(round * 50 + i)));
    const current = (await h.api.ok('getEnrollment', { id: enrollment.id })).enrollment!;
    const c = (await h.api.ok('getProfile', { id: coach.id })).profile!;
    const p = (await h.api.ok('getProfile', { id: participant.id })).profile!;
    const pr = (await h.api.ok('getProgram', { id: program.id })).program!;
    const work: Promise<unknown>[] = [
      ...sessions.map((s) => call('completeSession', { id: s.id, etag: s.etag, requestId: randomUUID(), notes: `r${round}` })),
      ...[0, 1, 2].map((i) =>
        call('createSession', {
          session: Session.fromPartial({
            programId: program.id,
            coachId: coach.id,
            participantId: participant.id,
            scheduledStart: at(round * 50 + 20 + i),
            durationMinutes: 30,
          }),
          requestId: randomUUID(),
        }),
      ),
      call('updateSession', { session: { ...sessions[0]!, notes: 'agenda' }, updateMask: ['notes'] }),
      call('updateSession', { session: { ...sessions[1]!, scheduledStart: at(round * 50 + 30) }, updateMask: ['scheduled_start'] }),
      call('updateProfile', { profile: { ...c, displayName: `C${round}` }, updateMask: ['display_name'] }),
      call('updateProfile', { profile: { ...p, displayName: `P${round}` }, updateMask: ['display_name'] }),
      call('updateProfile', { profile: { ...p, email: `p${round}-${randomUUID()}@example.com` }, updateMask: ['email'] }),
      call('updateProgram', { program: { ...pr, title: `T${round}` }, updateMask: ['title'] }),
      call('updateEnrollment', {
        enrollment: Enrollment.fromPartial({
          ...current,
          status: round % 2 === 0 ? EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN : EnrollmentStatus.ENROLLMENT_STATUS_ACTIVE,
        }),
        updateMask: ['status'],
      }),
    ];
    await Promise.all(work);
  }
  const unexpected = outcomes.filter((o) => /INTERNAL|UNAVAILABLE|DEADLINE|TRANSACTION_CONFLICT|UNKNOWN|RESOURCE_EXHAUSTED/.test(o));
  expect(unexpected).toEqual([]);
  expect(outcomes.filter((o) => o === 'completeSession: OK').length).toBeGreaterThan(0);
  expect(outcomes.filter((o) => o === 'createSession: OK').length).toBeGreaterThan(0);
  await h.svc.stop();
  await waitFor(
    "the service's database connections to close",
    async () =>
      (await h.db.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()'))[0]!
        .n === 0,
    { timeoutMs: 20_000 },
  );
  expect(await deadlocks()).toBe(before);
}, 120_000);
