import { EtagMismatchError, FailedPreconditionError } from '../domain/errors';
import type { EnrollmentRecord } from '../domain/enrollment';
import type { PageTokenCodec } from '../domain/PageTokenCodec';
import { touchesSchedule, type NewSession, type SessionPatch, type SessionRecord } from '../domain/session';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { enrollmentRepository } from '../repositories/enrollmentRepository';
import { sessionRepository as repo, type SessionFilter } from '../repositories/sessionRepository';
import { enrollmentCodec } from './enrollmentService';
import { idempotent, recordCodec, requestHash, type ResultCodec } from './idempotent';
import { readPage, type Page } from './paging';
import { requireProfile, requireProgram } from './preconditions';
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

/** Session use cases, including the two-table CompleteSession. */
export function createSessionService(deps: { db: DatabaseGateway; pageTokens: PageTokenCodec }) {
  const { db, pageTokens } = deps;
  const sessions = versionedResource(db, 'session', repo);

  return {
    /**
     * Schedules a session. People, program and enrollment are checked first
     * (for precise reasons) under locks that hold them until commit; the
     * database then refuses a double booking with its exclusion constraints,
     * which also decide between concurrent creates.
     */
    create(input: NewSession, requestId: string | undefined, options?: WorkOptions): Promise<SessionRecord> {
      const key = { requestId, operation: 'CreateSession', hash: requestHash(input) };
      return db.write(
        'sessions.create',
        (tx) =>
          idempotent(tx, key, sessionCodec, async () => {
            await requireProfile(tx, input.coachId, 'COACH');
            await requireProfile(tx, input.participantId, 'PARTICIPANT');
            await requireProgram(tx, input.programId, 'key share');
            const enrollment = await enrollmentRepository.findByKey(tx, input.participantId, input.programId, 'share');
            if (enrollment === undefined) {
              throw new FailedPreconditionError('NOT_ENROLLED', `participant ${input.participantId} is not enrolled in program ${input.programId}`);
            }
            if (enrollment.status === 'WITHDRAWN') throw withdrawn(input.participantId, input.programId);
            return repo.insert(tx, input);
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

    /** Reschedules, re-statuses or annotates; a COMPLETED session only takes notes. */
    update(id: string, etag: string, patch: SessionPatch, options?: WorkOptions): Promise<SessionRecord> {
      return sessions.modify(
        id,
        etag,
        async (tx, current) => {
          if (current.status === 'COMPLETED' && touchesSchedule(patch)) throw completedError(id);
          return repo.update(tx, id, current.version, patch);
        },
        options,
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
     * One transaction: the session becomes COMPLETED, then the enrollment
     * counts it (an atomic increment in SQL). If the second step fails, the
     * first is rolled back with it. Idempotent by request_id: a retry gets
     * the stored result and counts nothing again.
     */
    complete(id: string, etag: string, notes: string, requestId: string | undefined, options?: WorkOptions): Promise<Completion> {
      const key = { requestId, operation: 'CompleteSession', hash: requestHash({ id, etag, notes }) };
      return db.write(
        'sessions.complete',
        (tx) =>
          idempotent(tx, key, completionCodec, async () => {
            const current = await sessions.lockCurrent(tx, id, etag);
            if (current.status !== 'SCHEDULED') {
              throw new FailedPreconditionError('SESSION_NOT_SCHEDULED', `session ${id} is ${current.status}; only a SCHEDULED session can be completed`, {
                metadata: { status: current.status },
              });
            }
            const session = await repo.complete(tx, id, current.version, notes);
            if (session === undefined) throw new EtagMismatchError('session', id); // unreachable while the row lock is held
            const enrollment = await enrollmentRepository.recordCompletion(tx, current.participantId, current.programId);
            if (enrollment === undefined) throw withdrawn(current.participantId, current.programId);
            return { session, enrollment };
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
