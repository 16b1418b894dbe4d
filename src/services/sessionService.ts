import type { CommonQueryMethods } from 'slonik';
import { EtagMismatchError, FailedPreconditionError, NotFoundError } from '../domain/errors';
import type { EnrollmentRecord } from '../domain/enrollment';
import type { PageTokenCodec } from '../domain/PageTokenCodec';
import { touchesSchedule, type NewSession, type SessionPatch, type SessionRecord } from '../domain/session';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { enrollmentRepository, type EnrollmentProgress } from '../repositories/enrollmentRepository';
import { lockOrder } from '../repositories/lockOrder';
import { sessionRepository as repo, type SessionFilter } from '../repositories/sessionRepository';
import { enrollmentCodec } from './enrollmentService';
import type { ChangeLog } from './changeLog';
import { parseEtag } from '../domain/etag';
import { canonical, idempotent, recordCodec, requestHash, type ResultCodec } from './idempotent';
import { readPage, type Page } from './paging';
import { requirePeople, requireProgram } from './preconditions';
import { versionedResource } from './versionedResource';

/** What CompleteSession changed: the session and the enrollment it counted toward. */
export interface Completion {
  readonly session: SessionRecord;
  readonly enrollment: EnrollmentRecord;
}

const sessionCodec = recordCodec<SessionRecord>(['scheduledStart', 'completedTime', 'createTime', 'updateTime']);
const completionCodec: ResultCodec<Completion> = {
  toJson: (c) => ({ session: sessionCodec.toJson(c.session), enrollment: enrollmentCodec.toJson(c.enrollment) }),
  fromJson: (json) => {
    const c = json as { session: unknown; enrollment: unknown };
    return { session: sessionCodec.fromJson(c.session), enrollment: enrollmentCodec.fromJson(c.enrollment) };
  },
};

const withdrawn = (participantId: string, programId: string) =>
  new FailedPreconditionError('ENROLLMENT_WITHDRAWN', `participant ${participantId} withdrew from program ${programId}`, {
    metadata: { participant_id: participantId, program_id: programId },
  });

const allCounted = ({ record, totalSessions }: EnrollmentProgress) =>
  new FailedPreconditionError(
    'ENROLLMENT_COMPLETED',
    `enrollment ${record.id} already counts ${record.completedSessions} of the program's ${totalSessions} sessions; no more can complete toward it`,
    { metadata: { enrollment_id: record.id, completed_sessions: String(record.completedSessions), total_sessions: String(totalSessions) } },
  );

/**
 * CreateSession when enrollmentRepository.lockForBooking booked nothing:
 * with the enrollment it locked (not ACTIVE), the reason; without one
 * (something missing), the locks taken one statement at a time in the same
 * order, each step naming its reason (the people in the order given, then
 * the program, then the enrollment), and the insert if all is there after all.
 */
async function bookOneByOne(tx: CommonQueryMethods, input: NewSession, locked: EnrollmentRecord | undefined): Promise<SessionRecord> {
  const enrollment = locked ?? (await lockOneByOne(tx, input));
  if (enrollment.status === 'WITHDRAWN') throw withdrawn(input.participantId, input.programId);
  // A COMPLETED enrollment counts all of the program's sessions: a new one could never complete toward it.
  if (enrollment.status === 'COMPLETED') {
    throw new FailedPreconditionError(
      'ENROLLMENT_COMPLETED',
      `participant ${input.participantId} has completed program ${input.programId}; no more sessions can be booked in it`,
      { metadata: { enrollment_id: enrollment.id } },
    );
  }
  return repo.insert(tx, input);
}

async function lockOneByOne(tx: CommonQueryMethods, input: NewSession): Promise<EnrollmentRecord> {
  const people = [
    { id: input.coachId, role: 'COACH' as const },
    { id: input.participantId, role: 'PARTICIPANT' as const },
  ];
  await requirePeople(tx, people, 'no key update');
  await requireProgram(tx, input.programId, 'key share');
  const enrollment = await enrollmentRepository.findByKey(tx, input.participantId, input.programId, 'share');
  if (enrollment === undefined) {
    throw new FailedPreconditionError('NOT_ENROLLED', `participant ${input.participantId} is not enrolled in program ${input.programId}`);
  }
  return enrollment;
}

/** Session use cases, including the two-table CompleteSession. */
export function createSessionService(deps: { db: DatabaseGateway; pageTokens: PageTokenCodec; changes: ChangeLog }) {
  const { db, pageTokens, changes } = deps;
  const sessions = versionedResource(deps, 'session', repo);

  return {
    /**
     * Schedules a session. People, program and enrollment are checked first
     * (for precise reasons) under locks that hold them until commit, in the
     * lock order (lockOrder.ts): the coach and the participant FOR NO KEY
     * UPDATE, so that bookings of one person queue instead of waiting for
     * each other in the exclusion constraints; the database then refuses a
     * double booking with those constraints.
     */
    create(input: NewSession, requestId: string | undefined, options?: WorkOptions): Promise<SessionRecord> {
      const key = { requestId, operation: 'CreateSession', hash: requestHash(input) };
      return db.write(
        'sessions.create',
        (tx) =>
          idempotent(tx, key, sessionCodec, changes, async () => {
            // Usually one statement: the locks, then the session inserted when the enrollment is ACTIVE.
            const booked = await enrollmentRepository.lockForBooking(tx, input);
            const created = booked?.session ?? (await bookOneByOne(tx, input, booked?.enrollment));
            return { result: created, changes: [{ kind: 'session', after: created }] };
          }),
        { ...options, idempotent: key.requestId !== undefined },
      );
    },

    get: sessions.get,

    list(query: SessionFilter & { pageSize: number; pageToken: string }, options?: WorkOptions): Promise<Page<SessionRecord>> {
      const { pageSize, pageToken, ...filter } = query;
      const tokenFilter = {
        program_id: filter.programId,
        coach_id: filter.coachId,
        participant_id: filter.participantId,
        status: filter.status,
        from: filter.from?.getTime(),
        until: filter.until?.getTime(),
      };
      return readPage(
        pageTokens,
        { filter: tokenFilter, pageSize, pageToken },
        (s) => ({ time: s.scheduledStart.getTime(), id: s.id }),
        (after, limit) => db.read('sessions.list', (c) => repo.list(c, filter, after, limit), options),
      );
    },

    /** Reschedules, re-statuses or annotates; a COMPLETED session only takes notes. Its people are locked first, as in create. */
    update(id: string, etag: string, patch: SessionPatch, options?: WorkOptions): Promise<SessionRecord> {
      return sessions.modify(
        id,
        etag,
        async (tx, current) => {
          if (current.status === 'COMPLETED' && touchesSchedule(patch)) throw completedError(id);
          return repo.update(tx, id, current.version, patch);
        },
        { ...options, lockFirst: (tx) => lockOrder.sessionPeople(tx, id, 'no key update') },
      );
    },

    /** Deletes a session that is not COMPLETED (a completed one is part of the enrollment's progress). */
    delete(id: string, etag: string, options?: WorkOptions): Promise<void> {
      return sessions.remove(
        id,
        etag,
        {
          check: (current) => {
            if (current.status === 'COMPLETED') throw completedError(id);
          },
        },
        options,
      );
    },

    /**
     * One transaction: the session becomes COMPLETED and its enrollment counts it (or neither), locks in the
     * lock order, idempotent by request_id: README "Design decisions", "One lock order for every write" and
     * "`completed_sessions` never exceeds `total_sessions`".
     */
    complete(id: string, etag: string, notes: string, requestId: string | undefined, options?: WorkOptions): Promise<Completion> {
      const key = { requestId, operation: 'CompleteSession', hash: requestHash({ id: canonical.id(id), etag: canonical.etag(etag), notes }) };
      return db.write(
        'sessions.complete',
        (tx) =>
          idempotent(tx, key, completionCodec, changes, async () => {
            // One statement locks the people, the enrollment and the session (a session without its enrollment cannot exist: a foreign key holds it).
            const locked = await enrollmentRepository.lockProgressOfSession(tx, id);
            if (locked === undefined) throw new NotFoundError('session', id);
            const { progress, session: current } = locked;
            if (parseEtag(etag) !== current.version) throw new EtagMismatchError('session', id);
            if (current.status !== 'SCHEDULED') {
              throw new FailedPreconditionError('SESSION_NOT_SCHEDULED', `session ${id} is ${current.status}; only a SCHEDULED session can be completed`, {
                metadata: { status: current.status },
              });
            }
            if (progress.record.status === 'WITHDRAWN') throw withdrawn(current.participantId, current.programId);
            if (progress.record.completedSessions >= progress.totalSessions) throw allCounted(progress);
            // The session's update and the enrollment's count in one statement: both or neither.
            const completed = await enrollmentRepository.recordCompletion(tx, progress.record.id, repo.completion(id, current.version, notes));
            if (completed === undefined) throw new EtagMismatchError('session', id); // unreachable while the row locks are held
            const { session, enrollment } = completed;
            return {
              result: { session, enrollment },
              changes: [
                { kind: 'session', before: current, after: session },
                { kind: 'enrollment', before: progress.record, after: enrollment },
              ],
            };
          }),
        { ...options, idempotent: key.requestId !== undefined },
      );
    },
  };
}

function completedError(id: string): FailedPreconditionError {
  return new FailedPreconditionError('SESSION_COMPLETED', `session ${id} is COMPLETED; its status, start and duration are part of the record`);
}

export type SessionService = ReturnType<typeof createSessionService>;
