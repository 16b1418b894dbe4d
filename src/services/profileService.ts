import { EtagMismatchError, NotFoundError, ValidationError } from '../domain/errors';
import { parseEtag } from '../domain/etag';
import type { PageTokenCodec } from '../domain/PageTokenCodec';
import type { NewProfile, ProfilePatch, ProfileRecord, ProfileRole } from '../domain/profile';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import { profileRepository as repo } from '../repositories/profileRepository';
import { idempotent, requestHash, type ResultCodec } from './idempotent';

export interface ProfilePage {
  readonly profiles: ProfileRecord[];
  readonly nextPageToken: string;
}

const profileCodec: ResultCodec<ProfileRecord> = {
  toJson: (p) => ({ ...p, createTime: p.createTime.toISOString(), updateTime: p.updateTime.toISOString() }),
  fromJson: (json) => {
    const p = json as ProfileRecord & { createTime: string; updateTime: string };
    return { ...p, createTime: new Date(p.createTime), updateTime: new Date(p.updateTime) };
  },
};

/** Profile use cases: validation is done by the caller; this layer owns transactions and concurrency rules. */
export function createProfileService(deps: { db: DatabaseGateway; pageTokens: PageTokenCodec }) {
  const { db, pageTokens } = deps;

  /** Missing row or stale version: tell which, after the conditional write matched nothing. */
  const explainMiss = async (id: string, options?: WorkOptions): Promise<never> => {
    const current = await db.read('profiles.get', (c) => repo.findById(c, id), options);
    throw current === undefined ? new NotFoundError('profile', id) : new EtagMismatchError('profile', id);
  };

  return {
    create(input: NewProfile, requestId: string | undefined, options?: WorkOptions): Promise<ProfileRecord> {
      const key = { requestId, operation: 'CreateProfile', hash: requestHash(input) };
      return db.write('profiles.create', (tx) => idempotent(tx, key, profileCodec, () => repo.insert(tx, input)), {
        ...options,
        idempotent: requestId !== undefined,
      });
    },

    async get(id: string, options?: WorkOptions): Promise<ProfileRecord> {
      const profile = await db.read('profiles.get', (c) => repo.findById(c, id), options);
      if (profile === undefined) throw new NotFoundError('profile', id);
      return profile;
    },

    async list(query: { role?: ProfileRole; pageSize: number; pageToken: string }, options?: WorkOptions): Promise<ProfilePage> {
      const filter = `role=${query.role ?? ''}`;
      const after = query.pageToken === '' ? undefined : pageTokens.decode(query.pageToken, filter);
      if (query.pageToken !== '' && after === undefined) {
        throw new ValidationError([{ field: 'page_token', description: 'is not a token this service issued for this filter' }]);
      }
      const rows = await db.read('profiles.list', (c) => repo.list(c, { role: query.role }, after, query.pageSize + 1), options);
      const page = rows.slice(0, query.pageSize);
      const last = page.at(-1);
      const nextPageToken = rows.length > query.pageSize && last ? pageTokens.encode({ time: last.createTime.getTime(), id: last.id }, filter) : '';
      return { profiles: page, nextPageToken };
    },

    async update(id: string, etag: string, patch: ProfilePatch, options?: WorkOptions): Promise<ProfileRecord> {
      const version = parseEtag(etag);
      const updated = version === undefined ? undefined : await db.write('profiles.update', (tx) => repo.update(tx, id, version, patch), options);
      return updated ?? explainMiss(id, options);
    },

    async delete(id: string, etag: string, options?: WorkOptions): Promise<void> {
      const version = parseEtag(etag);
      const deleted = version === undefined ? false : await db.write('profiles.delete', (tx) => repo.delete(tx, id, version), options);
      if (!deleted) await explainMiss(id, options);
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
