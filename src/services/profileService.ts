import type { PageTokenCodec } from '../domain/PageTokenCodec';
import type { NewProfile, ProfilePatch, ProfileRecord, ProfileRole } from '../domain/profile';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { lockOrder } from '../repositories/lockOrder';
import { profileRepository as repo } from '../repositories/profileRepository';
import type { ChangeLog } from './changeLog';
import { idempotent, recordCodec, requestHash } from './idempotent';
import { readPage, type Page } from './paging';
import { versionedResource } from './versionedResource';

const profileCodec = recordCodec<ProfileRecord>(['createTime', 'updateTime']);

/** Profile use cases: validation is done by the caller; this layer owns transactions and concurrency rules. */
export function createProfileService(deps: { db: DatabaseGateway; pageTokens: PageTokenCodec; changes: ChangeLog }) {
  const { db, pageTokens, changes } = deps;
  const profiles = versionedResource(deps, 'profile', repo);

  return {
    create(input: NewProfile, requestId: string | undefined, options?: WorkOptions): Promise<ProfileRecord> {
      const key = { requestId, operation: 'CreateProfile', hash: requestHash(input) };
      return db.write(
        'profiles.create',
        (tx) =>
          idempotent(tx, key, profileCodec, changes, async () => {
            const created = await repo.insert(tx, input);
            return { result: created, changes: [{ kind: 'profile', after: created }] };
          }),
        {
          ...options,
          idempotent: requestId !== undefined,
        },
      );
    },

    get: profiles.get,

    list(query: { role?: ProfileRole; pageSize: number; pageToken: string }, options?: WorkOptions): Promise<Page<ProfileRecord>> {
      const filter = { role: query.role };
      return readPage(
        pageTokens,
        { filter, pageSize: query.pageSize, pageToken: query.pageToken },
        (p) => ({ time: p.createTime.getTime(), id: p.id }),
        (after, limit) => db.read('profiles.list', (c) => repo.list(c, filter, after, limit), options),
      );
    },

    /** A new email first locks the profile holding it now, with this one, in id order (lockOrder.ts): two profiles swapping emails queue. */
    update(id: string, etag: string, patch: ProfilePatch, options?: WorkOptions): Promise<ProfileRecord> {
      const { email } = patch;
      return profiles.modify(id, etag, (tx, current) => repo.update(tx, id, current.version, patch), {
        ...options,
        lockFirst: email === undefined ? undefined : (tx) => lockOrder.emailHolders(tx, id, email),
      });
    },

    /** Deletes the profile; with `force`, also what references it (programs, enrollments, sessions). */
    delete(id: string, etag: string, force: boolean, options?: WorkOptions): Promise<void> {
      return profiles.remove(id, etag, { referencedAs: 'profile', force }, options);
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
