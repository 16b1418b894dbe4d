import { FailedPreconditionError } from '../domain/errors';
import type { PageTokenCodec } from '../domain/PageTokenCodec';
import type { NewProgram, ProgramPatch, ProgramRecord, ProgramStatus } from '../domain/program';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { programRepository as repo } from '../repositories/programRepository';
import { referenceRepository } from '../repositories/referenceRepository';
import type { ChangeLog } from './changeLog';
import { idempotent, recordCodec, requestHash } from './idempotent';
import { readPage, type Page } from './paging';
import { requireProfile } from './preconditions';
import { versionedResource } from './versionedResource';

const programCodec = recordCodec<ProgramRecord>(['createTime', 'updateTime']);

/** Program use cases: validation is done by the caller; this layer owns transactions and the cross-row rules. */
export function createProgramService(deps: { db: DatabaseGateway; pageTokens: PageTokenCodec; changes: ChangeLog }) {
  const { db, pageTokens, changes } = deps;
  const programs = versionedResource(deps, 'program', repo);

  return {
    /** Creates a program for an existing coach (checked under a lock, and by the role foreign key). */
    create(input: NewProgram, requestId: string | undefined, options?: WorkOptions): Promise<ProgramRecord> {
      const key = { requestId, operation: 'CreateProgram', hash: requestHash(input) };
      return db.write(
        'programs.create',
        (tx) =>
          idempotent(tx, key, programCodec, changes, async () => {
            await requireProfile(tx, input.coachId, 'COACH');
            const created = await repo.insert(tx, input);
            return { result: created, changes: [{ kind: 'program', after: created }] };
          }),
        { ...options, idempotent: key.requestId !== undefined },
      );
    },

    get: programs.get,

    list(query: { coachId?: string; status?: ProgramStatus; pageSize: number; pageToken: string }, options?: WorkOptions): Promise<Page<ProgramRecord>> {
      const filter = { coachId: query.coachId, status: query.status };
      return readPage(
        pageTokens,
        { filter: { coach_id: query.coachId, status: query.status }, pageSize: query.pageSize, pageToken: query.pageToken },
        (p) => ({ time: p.createTime.getTime(), id: p.id }),
        (after, limit) => db.read('programs.list', (c) => repo.list(c, filter, after, limit), options),
      );
    },

    /**
     * total_sessions defines every enrollment's progress, so it is fixed once
     * anyone is enrolled. Enrollers read the program FOR SHARE, which waits for
     * this transaction's row lock: the count below cannot miss one.
     */
    update(id: string, etag: string, patch: ProgramPatch, options?: WorkOptions): Promise<ProgramRecord> {
      return programs.modify(
        id,
        etag,
        async (tx, current) => {
          if (patch.totalSessions !== undefined && patch.totalSessions !== current.totalSessions) {
            const { enrollments = 0 } = await referenceRepository.count(tx, 'program', id);
            if (enrollments > 0) {
              throw new FailedPreconditionError(
                'PROGRAM_HAS_ENROLLMENTS',
                `total_sessions of program ${id} cannot change: ${enrollments} participant(s) are enrolled and their progress is measured against it`,
                { metadata: { enrollments: String(enrollments) } },
              );
            }
          }
          return repo.update(tx, id, current.version, patch);
        },
        options,
      );
    },

    /** Deletes the program; with `force`, also its enrollments and sessions. */
    delete(id: string, etag: string, force: boolean, options?: WorkOptions): Promise<void> {
      return programs.remove(id, etag, { referencedAs: 'program', force }, options);
    },
  };
}

export type ProgramService = ReturnType<typeof createProgramService>;
