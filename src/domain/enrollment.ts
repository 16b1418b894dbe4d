import type { SessionRecord } from './session';

/** State of an enrollment, as stored. */
export type EnrollmentStatus = 'ACTIVE' | 'COMPLETED' | 'WITHDRAWN';

/** An enrollment as committed in the database. */
export interface EnrollmentRecord {
  readonly id: string;
  readonly participantId: string;
  readonly programId: string;
  readonly status: EnrollmentStatus;
  readonly completedSessions: number;
  readonly progressPercent: number;
  readonly lastActivityTime: Date;
  readonly createTime: Date;
  readonly updateTime: Date;
  /** Row version; the etag is derived from it. */
  readonly version: number;
}

/** The client-supplied fields of a new enrollment, already validated. New enrollments are ACTIVE. */
export interface NewEnrollment {
  readonly participantId: string;
  readonly programId: string;
}

/** Statuses an update may set: COMPLETED is reached through CompleteSession only. */
export type SettableEnrollmentStatus = Exclude<EnrollmentStatus, 'COMPLETED'>;

/** Fields an update may change. */
export interface EnrollmentPatch {
  readonly status?: SettableEnrollmentStatus;
}

/** update_mask paths accepted by UpdateEnrollment, mapped to the patch keys. */
export const ENROLLMENT_UPDATABLE_PATHS = { status: 'status' } as const satisfies Record<string, keyof EnrollmentPatch>;

/** A participant's progress in a program, read in one snapshot. */
export interface ProgramProgressRecord {
  readonly enrollment: EnrollmentRecord;
  readonly completedSessions: number;
  readonly totalSessions: number;
  readonly percentComplete: number;
  /** Earliest SCHEDULED session that has not ended at readTime. */
  readonly nextSession: SessionRecord | undefined;
  /** Latest update_time of the enrollment, the program and the participant's sessions in it. */
  readonly updateTime: Date;
  readonly readTime: Date;
}
