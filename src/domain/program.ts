/** Lifecycle state of a program, as stored. */
export type ProgramStatus = 'DRAFT' | 'ACTIVE' | 'ARCHIVED';

/** A program as committed in the database. */
export interface ProgramRecord {
  readonly id: string;
  readonly coachId: string;
  readonly title: string;
  readonly description: string;
  readonly status: ProgramStatus;
  readonly totalSessions: number;
  readonly createTime: Date;
  readonly updateTime: Date;
  /** Row version; the etag is derived from it. */
  readonly version: number;
}

/** The client-supplied fields of a new program, already validated. */
export interface NewProgram {
  readonly coachId: string;
  readonly title: string;
  readonly description: string;
  readonly status: ProgramStatus;
  readonly totalSessions: number;
}

/** Fields an update may change (the coach is fixed). */
export type ProgramPatch = Partial<Pick<NewProgram, 'title' | 'description' | 'status' | 'totalSessions'>>;

/** update_mask paths accepted by UpdateProgram, mapped to the patch keys. */
export const PROGRAM_UPDATABLE_PATHS = {
  title: 'title',
  description: 'description',
  status: 'status',
  total_sessions: 'totalSessions',
} as const satisfies Record<string, keyof ProgramPatch>;

/** Limits shared by the request validation and the database checks. */
export const PROGRAM_LIMITS = { title: 200, description: 5000, totalSessions: 100 } as const;
