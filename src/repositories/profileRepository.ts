import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { AlreadyExistsError } from '../domain/errors';
import type { NewProfile, ProfilePatch, ProfileRecord } from '../domain/profile';
import type { PageCursor } from '../domain/PageTokenCodec';
import { guarded } from './constraintViolations';
import { equalities, versionedTable } from './versionedTable';

const profileRow = z.object({
  id: z.string(),
  role: z.enum(['COACH', 'PARTICIPANT']),
  email: z.string(),
  display_name: z.string(),
  timezone: z.string(),
  bio: z.string(),
  create_time: z.number(),
  update_time: z.number(),
  version: z.number(),
});

const table = versionedTable({
  resource: 'profile',
  table: 'profiles',
  row: profileRow,
  orderBy: 'create_time',
  toRecord: (row): ProfileRecord => ({
    id: row.id,
    role: row.role,
    email: row.email,
    displayName: row.display_name,
    timezone: row.timezone,
    bio: row.bio,
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
    version: row.version,
  }),
});

/** The case-insensitive email index, as the domain error. */
const emailTaken = (email: string | undefined) => ({
  profiles_email_lower_key: (cause: unknown) => new AlreadyExistsError('EMAIL_TAKEN', `a profile with email ${email ?? ''} already exists`, { cause }),
});

/** Profile rows. Every function takes a connection, so it runs on the pool or in a transaction. */
export const profileRepository = {
  insert(db: CommonQueryMethods, input: NewProfile): Promise<ProfileRecord> {
    const values = { role: input.role, email: input.email, display_name: input.displayName, timezone: input.timezone, bio: input.bio };
    return guarded(table.insert(db, values), emailTaken(input.email));
  },

  findById: table.findById,

  async findByEmail(db: CommonQueryMethods, email: string): Promise<ProfileRecord | undefined> {
    return table.findOne(db, [sql.fragment`lower(email) = lower(${email})`]);
  },

  /** One page in (create_time, id) order, after the cursor. */
  list(db: CommonQueryMethods, filter: { role?: NewProfile['role'] }, after: PageCursor | undefined, limit: number): Promise<ProfileRecord[]> {
    return table.list(db, equalities({ role: filter.role }), after, limit);
  },

  /** Applies the patch when the version matches; undefined when no row matched (missing or stale). */
  update(db: CommonQueryMethods, id: string, version: number, patch: ProfilePatch): Promise<ProfileRecord | undefined> {
    const sets = [];
    if (patch.email !== undefined) sets.push(sql.fragment`email = ${patch.email}`);
    if (patch.displayName !== undefined) sets.push(sql.fragment`display_name = ${patch.displayName}`);
    if (patch.timezone !== undefined) sets.push(sql.fragment`timezone = ${patch.timezone}`);
    if (patch.bio !== undefined) sets.push(sql.fragment`bio = ${patch.bio}`);
    return guarded(table.update(db, id, version, sets), emailTaken(patch.email));
  },

  delete: table.delete,
};
