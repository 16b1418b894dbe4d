/** A person's role on the platform, as stored. */
export type ProfileRole = 'COACH' | 'PARTICIPANT';

/** A profile as committed in the database. */
export interface ProfileRecord {
  readonly id: string;
  readonly role: ProfileRole;
  readonly email: string;
  readonly displayName: string;
  readonly timezone: string;
  readonly bio: string;
  readonly createTime: Date;
  readonly updateTime: Date;
  /** Row version; the etag is derived from it. */
  readonly version: number;
}

/** The client-supplied fields of a new profile, already validated. */
export interface NewProfile {
  readonly role: ProfileRole;
  readonly email: string;
  readonly displayName: string;
  readonly timezone: string;
  readonly bio: string;
}

/** Fields an update may change (role is immutable). */
export type ProfilePatch = Partial<Pick<NewProfile, 'email' | 'displayName' | 'timezone' | 'bio'>>;

/** update_mask paths accepted by UpdateProfile, mapped to the patch keys. */
export const PROFILE_UPDATABLE_PATHS = {
  email: 'email',
  display_name: 'displayName',
  timezone: 'timezone',
  bio: 'bio',
} as const satisfies Record<string, keyof ProfilePatch>;
