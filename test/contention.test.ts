import { randomUUID } from 'node:crypto';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { CoachingServiceClient, CoachingServiceService } from '../src/generated/coaching/v1/coaching_service';
import { Enrollment, EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import type { Profile } from '../src/generated/coaching/v1/profile';
import { Session } from '../src/generated/coaching/v1/session';
import type { Timestamp } from '../src/generated/google/protobuf/timestamp';
import { rpc, type CallResult } from './support/grpcClient';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { at, world } from './support/world';

/**
 * Many clients mix every write path on the same rows: CompleteSession,
 * CreateSession, UpdateSession, Update*, and forced deletes of enrollments,
 * programs and profiles. With one lock order for every path no deadlock can
 * form, so every call ends in a domain answer (OK, ETAG_MISMATCH, NOT_FOUND,
 * a precondition...) and PostgreSQL counts no deadlock for the database.
 * Retries are off, so a deadlock could not hide behind a successful retry.
 */

const CLIENTS = 6;
const ROUNDS = 6;
const CALL_DEADLINE_MS = 30_000;

let db: TestDatabase;
let svc: TestService;
const clients: CoachingServiceClient[] = [];

const deadlocks = async (): Promise<number> =>
  (await db.query<{ n: number }>('select deadlocks::int as n from pg_stat_database where datname = current_database()'))[0]!.n;

const h = useHarness({
  env: { DB_RETRY_MAX_ATTEMPTS: '0', DB_MAX_CONNECTIONS: '16', DB_BULKHEAD_QUEUE: '500', DB_BULKHEAD_QUEUE_TIMEOUT_MS: String(CALL_DEADLINE_MS) },
  setup: () => {
    // Separate connections (no shared subchannel), as separate client processes would have.
    for (let i = 0; i < CLIENTS; i++) {
      clients.push(new CoachingServiceClient(`127.0.0.1:${h.svc.service.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    }
  },
  teardown: () => clients.forEach((c) => c.close()),
});
beforeAll(() => ({ db, svc } = h));

/** Every answer a call may end in under contention; anything else (TRANSACTION_CONFLICT, INTERNAL, a deadline) is a failure. */
const EXPECTED = new Set([
  'OK',
  'ABORTED ETAG_MISMATCH',
  'NOT_FOUND NOT_FOUND',
  'ALREADY_EXISTS EMAIL_TAKEN',
  'ALREADY_EXISTS ENROLLMENT_EXISTS',
  ...[
    'SESSION_NOT_SCHEDULED',
    'SESSION_COMPLETED',
    'ENROLLMENT_WITHDRAWN',
    'ENROLLMENT_COMPLETED',
    'DOUBLE_BOOKED',
    'NOT_ENROLLED',
    'PROGRAM_HAS_ENROLLMENTS',
    'PROGRAM_NOT_FOUND',
    'PROGRAM_NOT_ACTIVE',
    'COACH_NOT_FOUND',
    'PARTICIPANT_NOT_FOUND',
  ].map((reason) => `FAILED_PRECONDITION ${reason}`),
]);

const outcome = (error: ServiceError | undefined): string =>
  error === undefined ? 'OK' : `${status[error.code]} ${String(error.metadata.get('x-error-reason')[0] ?? '(no reason)')}`;

interface Outcome {
  readonly method: string;
  readonly outcome: string;
}

describe('integrity under contention', () => {
  it('mixes every write path on the same rows without a deadlock; every call ends in a domain answer', async () => {
    const setup = rpc(clients[0]!, CoachingServiceService);
    const w = world(setup);
    const outcomes: Outcome[] = [];
    const completed: string[] = [];
    /** Enrollments nothing but their own four completions touched. */
    const steady: string[] = [];
    let next = 0;
    /** One call on the next client (round-robin), its outcome recorded. */
    const call = async <R>(method: string, invoke: (api: typeof setup) => Promise<CallResult<R>>): Promise<CallResult<R>> => {
      const api = rpc(clients[next++ % CLIENTS]!, CoachingServiceService);
      const result = await invoke(api);
      outcomes.push({ method, outcome: outcome(result.error) });
      return result;
    };
    const opts = { deadlineMs: CALL_DEADLINE_MS };
    /** Deletes with force, re-reading the etag while concurrent writes keep changing it (bounded). */
    const forceDelete = async (kind: 'Enrollment' | 'Program' | 'Profile', id: string): Promise<void> => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const got = await call(`get${kind}`, (api) => api.call(`get${kind}`, { id }, opts));
        const current = got.response as { enrollment?: { etag: string }; program?: { etag: string }; profile?: { etag: string } } | undefined;
        const etag = current?.enrollment?.etag ?? current?.program?.etag ?? current?.profile?.etag;
        if (etag === undefined) return;
        const deleted = await call(`delete${kind}`, (api) => api.call(`delete${kind}`, { id, etag, force: true }, opts));
        if (deleted.error?.code !== status.ABORTED) return;
      }
    };

    const before = await deadlocks();
    for (let round = 0; round < ROUNDS; round++) {
      // A world per round: two coaches, five participants, one program of 3 sessions, five enrollments with 4 sessions each.
      // Participant 4 is left alone but for its completions: one of them must be refused, as 4 > 3.
      const hour = (h: number) => at(round * 200 + h);
      const coach = await w.coach('Coach');
      const otherCoach = await w.coach('Other');
      const people: Profile[] = [];
      for (let i = 0; i < 5; i++) people.push(await w.participant(`P${i}`));
      const newcomer = await w.participant('Newcomer');
      const program = await w.program(coach.id, { totalSessions: 3 });
      const enrollments: Enrollment[] = [];
      const sessions: Session[][] = [];
      for (const [i, p] of people.entries()) {
        enrollments.push(await w.enroll(p.id, program.id));
        const own = [];
        for (let j = 0; j < 4; j++) own.push(await w.session({ programId: program.id, coachId: coach.id, participantId: p.id, start: hour(i * 5 + j) }));
        sessions.push(own);
      }
      const [p0, p1, p2, p3] = people as [Profile, Profile, Profile, Profile];
      const newSession = (participantId: string, start: Timestamp, coachId = coach.id) =>
        Session.fromPartial({ programId: program.id, coachId, participantId, scheduledStart: start, durationMinutes: 60 });

      const work: Promise<unknown>[] = [
        // Every session completes (the fourth completion of an enrollment would exceed total_sessions)...
        ...sessions.flat().map((s) =>
          call('completeSession', (api) => api.call('completeSession', { id: s.id, etag: s.etag, requestId: randomUUID(), notes: `done ${round}` }, opts)).then(
            (r) => {
              if (r.error === undefined) completed.push(s.id);
            },
          ),
        ),
        // ...while two of the enrollments are deleted with their sessions,
        forceDelete('Enrollment', enrollments[0]!.id),
        forceDelete('Enrollment', enrollments[1]!.id),
        // one is withdrawn,
        call('updateEnrollment', (api) =>
          api.call(
            'updateEnrollment',
            { enrollment: Enrollment.fromPartial({ ...enrollments[2]!, status: EnrollmentStatus.ENROLLMENT_STATUS_WITHDRAWN }), updateMask: ['status'] },
            opts,
          ),
        ),
        // sessions are moved onto each other and annotated,
        call('updateSession', (api) =>
          api.call('updateSession', { session: { ...sessions[2]![0]!, scheduledStart: hour(15.5) }, updateMask: ['scheduled_start'] }, opts),
        ),
        call('updateSession', (api) =>
          api.call('updateSession', { session: { ...sessions[3]![0]!, scheduledStart: hour(10.5) }, updateMask: ['scheduled_start'] }, opts),
        ),
        call('updateSession', (api) => api.call('updateSession', { session: { ...sessions[1]![1]!, notes: 'agenda' }, updateMask: ['notes'] }, opts)),
        // new bookings race for the same free slot, and for taken ones,
        ...[p0, p1, p2, p3].map((p) =>
          call('createSession', (api) => api.call('createSession', { session: newSession(p.id, hour(100)), requestId: '' }, opts)),
        ),
        ...[p2, p3].map((p, i) =>
          call('createSession', (api) =>
            api.call('createSession', { session: newSession(p.id, hour(i === 0 ? 10.5 : 15.5), otherCoach.id), requestId: '' }, opts),
          ),
        ),
        // the program is renamed and shortened below everyone's progress,
        call('updateProgram', (api) => api.call('updateProgram', { program: { ...program, title: `Round ${round}` }, updateMask: ['title'] }, opts)),
        call('updateProgram', (api) => api.call('updateProgram', { program: { ...program, totalSessions: 1 }, updateMask: ['total_sessions'] }, opts)),
        // someone new enrolls,
        call('createEnrollment', (api) =>
          api.call('createEnrollment', { enrollment: Enrollment.fromPartial({ participantId: newcomer.id, programId: program.id }), requestId: '' }, opts),
        ),
        // two participants swap their email addresses,
        call('updateProfile', (api) => api.call('updateProfile', { profile: { ...p0, email: p1.email }, updateMask: ['email'] }, opts)),
        call('updateProfile', (api) => api.call('updateProfile', { profile: { ...p1, email: p0.email }, updateMask: ['email'] }, opts)),
        // and a participant leaves with everything they had.
        forceDelete('Profile', p3.id),
      ];
      // Every third round the whole program goes, every other third its coach.
      if (round % 3 === 1) work.push(forceDelete('Program', program.id));
      else if (round % 3 === 2) work.push(forceDelete('Profile', coach.id));
      else steady.push(enrollments[4]!.id);
      await Promise.all(work);
    }

    const unexpected = outcomes.filter((o) => !EXPECTED.has(o.outcome)).map((o) => `${o.method}: ${o.outcome}`);
    expect(unexpected).toEqual([]);
    // The mix really contended: completions and forced deletes both went through.
    expect(outcomes.filter((o) => o.method === 'completeSession' && o.outcome === 'OK').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.method.startsWith('delete') && o.outcome === 'OK').length).toBeGreaterThan(0);
    expect(svc.logs.text()).not.toContain('TRANSACTION_CONFLICT');

    // What was written holds together: progress never exceeds the program, and counts exactly the completed sessions.
    expect(
      await db.query(`
        select e.id, e.completed_sessions, p.total_sessions,
               (select count(*)::int from sessions s
                where s.participant_id = e.participant_id and s.program_id = e.program_id and s.status = 'COMPLETED') as done
        from enrollments e join programs p on p.id = e.program_id
        where e.completed_sessions > p.total_sessions
           or e.completed_sessions <> (select count(*) from sessions s
                                       where s.participant_id = e.participant_id and s.program_id = e.program_id and s.status = 'COMPLETED')`),
    ).toEqual([]);
    // Of four completions toward a program of three, exactly one was refused.
    expect(
      await db.query(
        `select e.status, e.completed_sessions, array_agg(s.status order by s.status) as sessions
         from enrollments e join sessions s on s.participant_id = e.participant_id and s.program_id = e.program_id
         where e.id = any($1::uuid[]) group by e.id`,
        [steady],
      ),
    ).toEqual(steady.map(() => ({ status: 'COMPLETED', completed_sessions: 3, sessions: ['COMPLETED', 'COMPLETED', 'COMPLETED', 'SCHEDULED'] })));
    // An acknowledged completion is kept, unless a forced delete took the session away afterwards.
    const stillThere = await db.query<{ id: string; status: string }>('select id, status from sessions where id = any($1::uuid[])', [completed]);
    expect(stillThere.filter((s) => s.status !== 'COMPLETED')).toEqual([]);

    // PostgreSQL's own count: a backend reports its deadlocks when it ends, so stop the service and wait until its connections are gone.
    await svc.stop();
    await waitFor(
      "the service's database connections to close",
      async () =>
        (await db.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()'))[0]!
          .n === 0,
      { timeoutMs: 20_000 },
    );
    expect(await deadlocks()).toBe(before);
  }, 120_000);
});
