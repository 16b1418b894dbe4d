import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { AlreadyExistsError } from '../domain/errors';
import { violatedConstraint } from '../db/driverErrors';
import type { NewProfile, ProfilePatch, ProfileRecord } from '../domain/profile';
import type { PageCursor } from '../domain/PageTokenCodec';

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
type ProfileRow = z.infer<typeof profileRow>;

const columns = sql.fragment`id, role, email, display_name, timezone, bio, create_time, update_time, version`;

function toRecord(row: ProfileRow): ProfileRecord {
  return {
    id: row.id,
    role: row.role,
    email: row.email,
    displayName: row.display_name,
    timezone: row.timezone,
    bio: row.bio,
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
    version: row.version,
  };
}

/** Turns the case-insensitive email index violation into the domain error. */
function emailTaken(error: unknown, email: string | undefined): never {
  if (violatedConstraint(error, '23505') === 'profiles_email_lower_key') {
    throw new AlreadyExistsError('EMAIL_TAKEN', `a profile with email ${email ?? ''} already exists`);
  }
  throw error;
}

/** Profile rows. Every function takes a connection, so it runs on the pool or in a transaction. */
export const profileRepository = {
  async insert(db: CommonQueryMethods, input: NewProfile): Promise<ProfileRecord> {
    try {
      const row = await db.one(sql.type(profileRow)`
        insert into profiles (role, email, display_name, timezone, bio)
        values (${input.role}, ${input.email}, ${input.displayName}, ${input.timezone}, ${input.bio})
        returning ${columns}`);
      return toRecord(row);
    } catch (error) {
      return emailTaken(error, input.email);
    }
  },

  async findById(db: CommonQueryMethods, id: string): Promise<ProfileRecord | undefined> {
    const row = await db.maybeOne(sql.type(profileRow)`select ${columns} from profiles where id = ${id}`);
    return row === null ? undefined : toRecord(row);
  },

  /** One page in (create_time, id) order, after the cursor; fetches limit+1 rows to tell whether more exist. */
  async list(db: CommonQueryMethods, filter: { role?: NewProfile['role'] }, after: PageCursor | undefined, limit: number): Promise<ProfileRecord[]> {
    const conditions = [sql.fragment`true`];
    if (filter.role !== undefined) conditions.push(sql.fragment`role = ${filter.role}`);
    if (after !== undefined) {
      conditions.push(sql.fragment`(create_time, id) > (to_timestamp(${after.time} / 1000.0), ${after.id}::uuid)`);
    }
    const rows = await db.any(sql.type(profileRow)`
      select ${columns} from profiles
      where ${sql.join(conditions, sql.fragment` and `)}
      order by create_time, id
      limit ${limit}`);
    return rows.map(toRecord);
  },

  /** Applies the patch when the version matches; undefined when no row matched (missing or stale). */
  async update(db: CommonQueryMethods, id: string, version: number, patch: ProfilePatch): Promise<ProfileRecord | undefined> {
    const sets = [sql.fragment`update_time = now()`, sql.fragment`version = version + 1`];
    if (patch.email !== undefined) sets.push(sql.fragment`email = ${patch.email}`);
    if (patch.displayName !== undefined) sets.push(sql.fragment`display_name = ${patch.displayName}`);
    if (patch.timezone !== undefined) sets.push(sql.fragment`timezone = ${patch.timezone}`);
    if (patch.bio !== undefined) sets.push(sql.fragment`bio = ${patch.bio}`);
    try {
      const row = await db.maybeOne(sql.type(profileRow)`
        update profiles set ${sql.join(sets, sql.fragment`, `)}
        where id = ${id} and version = ${version}
        returning ${columns}`);
      return row === null ? undefined : toRecord(row);
    } catch (error) {
      return emailTaken(error, patch.email);
    }
  },

  /** Deletes when the version matches; false when no row matched (missing or stale). */
  async delete(db: CommonQueryMethods, id: string, version: number): Promise<boolean> {
    const result = await db.query(sql.unsafe`delete from profiles where id = ${id} and version = ${version}`);
    return result.rowCount === 1;
  },
};
