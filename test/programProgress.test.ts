import { outboxChangeLog } from '../src/app/events';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import type { DatabaseGateway } from '../src/db/DatabaseGateway';
import { gatewayOnPool } from '../src/db/gatewayOnPool';
import { createDatabasePool } from '../src/db/createDatabasePool';
import { PageTokenCodec } from '../src/domain/PageTokenCodec';
import { EnrollmentStatus } from '../src/generated/coaching/v1/enrollment';
import { SessionStatus, type Session } from '../src/generated/coaching/v1/session';
import { createEnrollmentService } from '../src/services/enrollmentService';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { at } from './support/world';
import { ms, ts } from './support/timestamps';

const h = useHarness();

const progressOf = async (participantId: string, programId: string) => (await h.api.ok('getProgramProgress', { participantId, programId })).progress!;
const complete = async (s: Session) => h.api.ok('completeSession', { id: s.id, etag: s.etag, requestId: randomUUID(), notes: '' });

describe('GetProgramProgress', () => {
  it('shows the enrollment, counts, percent, the next session that has not ended, and the latest change', async () => {
    const { participant, program, enrollment, book } = await h.w.enrolled(4);
    const empty = await progressOf(participant.id, program.id);
    expect(empty).toMatchObject({ enrollment, completedSessions: 0, totalSessions: 4, percentComplete: 0, nextSession: undefined });

    await book(ts(Date.now() - 3 * 3600_000)); // ended two hours ago, never completed
    const running = await book(ts(Date.now() - 30 * 60_000), 60); // started 30 minutes ago, still on
    const later = await book(at(5));
    await complete(running);
    const cancelled = await book(at(3));
    const latest = (await h.api.ok('updateSession', { session: { ...cancelled, status: SessionStatus.SESSION_STATUS_CANCELLED }, updateMask: ['status'] }))
      .session!;

    const progress = await progressOf(participant.id, program.id);
    expect(progress).toMatchObject({ completedSessions: 1, totalSessions: 4, percentComplete: 25 });
    expect(progress.enrollment).toEqual((await h.api.ok('getEnrollment', { id: enrollment.id })).enrollment);
    // Not the ended one, not the completed one, not the cancelled one.
    expect(progress.nextSession).toEqual(later);
    expect(progress.updateTime).toEqual(latest.updateTime);
    expect(Math.abs(ms(progress.readTime) - Date.now())).toBeLessThan(60_000);
  });

  it('is NOT_FOUND for a participant not enrolled, and validates its ids', async () => {
    const { program } = await h.w.enrolled();
    const stranger = await h.w.participant();
    const missing = await h.api.call('getProgramProgress', { participantId: stranger.id, programId: program.id });
    expect(expectError(missing, status.NOT_FOUND, 'NOT_FOUND').errorInfo?.metadata).toEqual({ resource: 'enrollment', id: `${stranger.id}/${program.id}` });
    const bad = await h.api.call('getProgramProgress', { participantId: '', programId: 'x' });
    expect(expectError(bad, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'participant_id',
      'program_id',
    ]);
  });
});

describe('one consistent snapshot', () => {
  let pool: DatabasePool;
  beforeAll(async () => {
    pool = await createDatabasePool(h.db.config().db);
  });
  afterAll(async () => {
    await pool.end();
  });

  /**
   * A gateway whose reads let `between` run (and commit, through the real
   * API) right after the first query of GetProgramProgress: the worst
   * interleaving, made deterministic. `snapshot` is the real one, or, as a
   * control, plain reads on the pool.
   */
  function interleaving(mode: 'snapshot' | 'plain reads', between: () => Promise<unknown>): DatabaseGateway {
    const real = gatewayOnPool(pool, h.db.config(), pino({ level: 'silent' }));
    const afterFirstQuery = (conn: CommonQueryMethods): CommonQueryMethods => {
      let first = true;
      return new Proxy(conn, {
        get(target, property) {
          const value = Reflect.get(target, property) as unknown;
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (first) {
              first = false;
              await between();
            }
            return result;
          };
        },
      });
    };
    return {
      ...real,
      snapshot: (operation, work, options) =>
        mode === 'snapshot'
          ? real.snapshot(operation, (tx) => work(afterFirstQuery(tx)), options)
          : real.read(operation, (c) => work(afterFirstQuery(c)), options),
    };
  }

  /** Reads progress while the first of two sessions completes between the read's first and later queries. */
  async function readAcrossACompletion(mode: 'snapshot' | 'plain reads') {
    const { participant, program, book } = await h.w.enrolled(3);
    const first = await book(at(100));
    const second = await book(at(101));
    const service = createEnrollmentService({
      db: interleaving(mode, () => complete(first)),
      pageTokens: new PageTokenCodec('test-secret-0123456789'),
      changes: outboxChangeLog(),
    });
    const progress = await service.progress(participant.id, program.id);
    // The completion did commit in between.
    expect((await progressOf(participant.id, program.id)).completedSessions).toBe(1);
    return { progress, first, second };
  }

  it('sees the state before a completion that commits mid-read, in every part', async () => {
    const { progress, first } = await readAcrossACompletion('snapshot');
    expect(progress).toMatchObject({ completedSessions: 0, percentComplete: 0 });
    expect(progress.nextSession?.id).toBe(first.id);
  });

  it('(control) would mix states without the snapshot: the same interleaving on plain reads', async () => {
    const { progress, second } = await readAcrossACompletion('plain reads');
    // 0 completed, yet the next session is the second: the first already counted elsewhere.
    expect(progress.completedSessions).toBe(0);
    expect(progress.nextSession?.id).toBe(second.id);
  });

  it('agrees with itself while completions run in parallel', async () => {
    const { participant, program, book } = await h.w.enrolled(6);
    const sessions: Session[] = [];
    for (let i = 0; i < 6; i++) sessions.push(await book(at(200 + i)));
    const reads: ReturnType<typeof progressOf>[] = [];
    for (const s of sessions) {
      reads.push(progressOf(participant.id, program.id), progressOf(participant.id, program.id));
      await complete(s);
    }
    for (const p of await Promise.all(reads)) {
      // Sessions complete in scheduled order, so the next one is always the (completed+1)-th.
      expect(p.nextSession?.id).toBe(sessions[p.completedSessions]?.id);
      expect(p.percentComplete).toBe(Math.floor((100 * p.completedSessions) / 6));
      expect(p.enrollment!.completedSessions).toBe(p.completedSessions);
    }
    const final = await progressOf(participant.id, program.id);
    expect(final).toMatchObject({ completedSessions: 6, percentComplete: 100, nextSession: undefined });
    expect(final.enrollment!.status).toBe(EnrollmentStatus.ENROLLMENT_STATUS_COMPLETED);
  });
});
