import type { CommonQueryMethods } from 'slonik';
import { EtagMismatchError, InUseError, NotFoundError } from '../domain/errors';
import { parseEtag } from '../domain/etag';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { referenceRepository, type ReferencedKind } from '../repositories/referenceRepository';
import type { RowLock } from '../repositories/versionedTable';
import type { Change, ChangeKind, ChangeLog } from './changeLog';

/** The row operations the shared use cases need from a repository. */
export interface VersionedRows<Rec> {
  findById(db: CommonQueryMethods, id: string, lock?: RowLock): Promise<Rec | undefined>;
  delete(db: CommonQueryMethods, id: string, version: number): Promise<boolean>;
}

/** How a delete treats rows that reference the one deleted. */
export interface DeletePolicy<Rec> {
  /** The kind of row others may reference, when any can. */
  readonly referencedAs?: ReferencedKind;
  /** Delete the referencing rows too (in the same transaction) instead of refusing. */
  readonly force?: boolean;
  /** A rule of the resource's own that may refuse the delete (throws). */
  readonly check?: (current: Rec) => void;
}

/**
 * Get, etag-checked writes and guarded deletes, the same for every resource.
 * Writes lock the row first (SELECT ... FOR UPDATE) and compare versions, so
 * every rule checked afterwards holds until commit and racing writers with
 * the same etag queue up: one wins, the others get ABORTED.
 */
export function versionedResource<Rec extends { readonly id: string; readonly version: number }>(
  deps: { readonly db: DatabaseGateway; readonly changes: ChangeLog },
  resource: ChangeKind,
  rows: VersionedRows<Rec>,
) {
  const { db, changes } = deps;
  // Rec is the record type of `resource` (the callers pair them).
  const change = (before: Rec | undefined, after: Rec | undefined): Change => ({ kind: resource, before, after }) as Change;

  /** The row, locked for this transaction, if `etag` is its current version. */
  const lockCurrent = async (tx: CommonQueryMethods, id: string, etag: string): Promise<Rec> => {
    const current = await rows.findById(tx, id, 'update');
    if (current === undefined) throw new NotFoundError(resource, id);
    if (parseEtag(etag) !== current.version) throw new EtagMismatchError(resource, id);
    return current;
  };

  return {
    lockCurrent,

    get: async (id: string, options?: WorkOptions): Promise<Rec> => {
      const found = await db.read(`${resource}s.get`, (c) => rows.findById(c, id), options);
      if (found === undefined) throw new NotFoundError(resource, id);
      return found;
    },

    /**
     * Runs `apply` on the locked current row when the etag matches; its
     * result is the updated row. `lockFirst` takes the locks that come
     * before this row in the lock order (lockOrder.ts) and that the change
     * may need.
     */
    modify: (
      id: string,
      etag: string,
      apply: (tx: CommonQueryMethods, current: Rec) => Promise<Rec | undefined>,
      options?: WorkOptions & { readonly lockFirst?: (tx: CommonQueryMethods) => Promise<void> },
    ): Promise<Rec> => {
      const { lockFirst, ...work } = options ?? {};
      return db.write(
        `${resource}s.update`,
        async (tx) => {
          await lockFirst?.(tx);
          const current = await lockCurrent(tx, id, etag);
          const updated = await apply(tx, current);
          // Unreachable while the lock is held; kept so a lost row can never pass as success.
          if (updated === undefined) throw new EtagMismatchError(resource, id);
          await changes.append(tx, [change(current, updated)]);
          return updated;
        },
        work,
      );
    },

    /**
     * Deletes the row when the etag matches. A row others reference is
     * refused with `<RESOURCE>_IN_USE` naming them, unless `force` deletes
     * them first, all in one transaction.
     */
    remove: async (id: string, etag: string, policy: DeletePolicy<Rec> = {}, options?: WorkOptions): Promise<void> => {
      await db.write(
        `${resource}s.delete`,
        async (tx) => {
          const current = await lockCurrent(tx, id, etag);
          policy.check?.(current);
          const cascaded: Change[] = [];
          if (policy.referencedAs !== undefined) {
            const references = await referenceRepository.count(tx, policy.referencedAs, id);
            if (Object.values(references).some((n) => n > 0)) {
              if (policy.force !== true) throw new InUseError(resource, id, references);
              const deleted = await referenceRepository.deleteReferencing(tx, policy.referencedAs, id);
              cascaded.push(
                ...deleted.sessions.map((before) => ({ kind: 'session' as const, before })),
                ...deleted.enrollments.map((before) => ({ kind: 'enrollment' as const, before })),
                ...deleted.programs.map((before) => ({ kind: 'program' as const, before })),
              );
            }
          }
          if (!(await rows.delete(tx, id, current.version))) throw new EtagMismatchError(resource, id);
          // What the cascade removed comes first, in the order it was deleted; the root row last.
          await changes.append(tx, [...cascaded, change(current, undefined)]);
        },
        options,
      );
    },
  };
}
