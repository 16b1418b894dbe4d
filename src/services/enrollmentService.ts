import { FailedPreconditionError, NotFoundError } from '../domain/errors';
import type { EnrollmentPatch, EnrollmentRecord, EnrollmentStatus, NewEnrollment, ProgramProgressRecord } from '../domain/enrollment';
import type { PageTokenCodec } from '../domain/PageTokenCodec';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { enrollmentRepository as repo } from '../repositories/enrollmentRepository';
import { programRepository } from '../repositories/programRepository';
import { sessionRepository } from '../repositories/sessionRepository';
import type { ChangeLog } from './changeLog';
import { idempotent, recordCodec, requestHash } from './idempotent';
import { readPage, type Page } from './paging';
import { requireProfile, requireProgram } from './preconditions';
import { versionedResource } from './versionedResource';

export const enrollmentCodec = recordCodec<EnrollmentRecord>(['lastActivityTime', 'createTime', 'updateTime']);

/** Enrollment use cases and the program-progress read. */
export function createEnrollmentService(deps: { db: DatabaseGateway; pageTokens: PageTokenCodec; changes: ChangeLog }) {
  const { db, pageTokens, changes } = deps;
  const enrollments = versionedResource(deps, 'enrollment', repo);

  return {
    /**
     * Enrolls a participant in an ACTIVE program. Participant, then program
     * (lock order: lockOrder.ts); the program is read FOR SHARE, so it cannot
     * be archived (or its total_sessions changed) before this commits, and the
     * enrollment keeps a copy of that total_sessions. The unique key refuses a
     * second enrollment, also when two race.
     */
    create(input: NewEnrollment, requestId: string | undefined, options?: WorkOptions): Promise<EnrollmentRecord> {
      const key = { requestId, operation: 'CreateEnrollment', hash: requestHash(input) };
      return db.write(
        'enrollments.create',
        (tx) =>
          idempotent(tx, key, enrollmentCodec, changes, async () => {
            await requireProfile(tx, input.participantId, 'PARTICIPANT');
            const program = await requireProgram(tx, input.programId, 'share');
            if (program.status !== 'ACTIVE') {
              throw new FailedPreconditionError('PROGRAM_NOT_ACTIVE', `program ${program.id} is ${program.status}; only ACTIVE programs accept enrollments`, {
                metadata: { status: program.status },
              });
            }
            const created = await repo.insert(tx, input, program.totalSessions);
            return { result: created, changes: [{ kind: 'enrollment', after: created }] };
          }),
        { ...options, idempotent: key.requestId !== undefined },
      );
    },

    get: enrollments.get,

    list(
      query: { participantId?: string; programId?: string; status?: EnrollmentStatus; pageSize: number; pageToken: string },
      options?: WorkOptions,
    ): Promise<Page<EnrollmentRecord>> {
      const filter = { participantId: query.participantId, programId: query.programId, status: query.status };
      return readPage(
        pageTokens,
        {
          filter: { participant_id: query.participantId, program_id: query.programId, status: query.status },
          pageSize: query.pageSize,
          pageToken: query.pageToken,
        },
        (e) => ({ time: e.createTime.getTime(), id: e.id }),
        (after, limit) => db.read('enrollments.list', (c) => repo.list(c, filter, after, limit), options),
      );
    },

    /** Withdraws or reactivates; a COMPLETED enrollment keeps its status. */
    update(id: string, etag: string, patch: EnrollmentPatch, options?: WorkOptions): Promise<EnrollmentRecord> {
      return enrollments.modify(
        id,
        etag,
        async (tx, current) => {
          if (current.status === 'COMPLETED') {
            throw new FailedPreconditionError('ENROLLMENT_COMPLETED', `enrollment ${id} is COMPLETED; its status can no longer change`);
          }
          return repo.update(tx, id, current.version, patch);
        },
        options,
      );
    },

    /** Deletes the enrollment; with `force`, also its sessions. */
    delete(id: string, etag: string, force: boolean, options?: WorkOptions): Promise<void> {
      return enrollments.remove(id, etag, { referencedAs: 'enrollment', force }, options);
    },

    /** Everything the progress screen shows, read in one REPEATABLE READ snapshot so the parts agree. */
    progress(participantId: string, programId: string, options?: WorkOptions): Promise<ProgramProgressRecord> {
      return db.snapshot(
        'enrollments.progress',
        async (tx) => {
          const enrollment = await repo.findByKey(tx, participantId, programId);
          if (enrollment === undefined) throw new NotFoundError('enrollment', `${participantId}/${programId}`);
          const program = await programRepository.findById(tx, programId);
          if (program === undefined) throw new NotFoundError('program', programId); // impossible: the foreign key holds it
          const nextSession = await sessionRepository.nextScheduled(tx, participantId, programId);
          const { lastChange, now } = await sessionRepository.lastChange(tx, participantId, programId);
          const times = [enrollment.updateTime, program.updateTime, ...(lastChange === undefined ? [] : [lastChange])].map((t) => t.getTime());
          return {
            enrollment,
            completedSessions: enrollment.completedSessions,
            totalSessions: program.totalSessions,
            percentComplete: enrollment.progressPercent,
            nextSession,
            updateTime: new Date(Math.max(...times)),
            readTime: now,
          };
        },
        options,
      );
    },
  };
}

export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
