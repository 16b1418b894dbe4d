/** State of a session, as stored. */
export type SessionStatus = 'SCHEDULED' | 'COMPLETED' | 'CANCELLED' | 'NO_SHOW';

/** A session as committed in the database. */
export interface SessionRecord {
  readonly id: string;
  readonly programId: string;
  readonly coachId: string;
  readonly participantId: string;
  readonly scheduledStart: Date;
  readonly durationMinutes: number;
  readonly status: SessionStatus;
  readonly notes: string;
  /** Set exactly when status is COMPLETED. */
  readonly completedTime: Date | undefined;
  readonly createTime: Date;
  readonly updateTime: Date;
  /** Row version; the etag is derived from it. */
  readonly version: number;
}

/** The client-supplied fields of a new session, already validated. New sessions are SCHEDULED. */
export interface NewSession {
  readonly programId: string;
  readonly coachId: string;
  readonly participantId: string;
  readonly scheduledStart: Date;
  readonly durationMinutes: number;
  readonly notes: string;
}

/** Statuses an update may set: COMPLETED is reached through CompleteSession only. */
export type SettableSessionStatus = Exclude<SessionStatus, 'COMPLETED'>;

/** Fields an update may change (program, coach and participant are fixed). */
export interface SessionPatch {
  readonly scheduledStart?: Date;
  readonly durationMinutes?: number;
  readonly status?: SettableSessionStatus;
  readonly notes?: string;
}

/** update_mask paths accepted by UpdateSession, mapped to the patch keys. */
export const SESSION_UPDATABLE_PATHS = {
  scheduled_start: 'scheduledStart',
  duration_minutes: 'durationMinutes',
  status: 'status',
  notes: 'notes',
} as const satisfies Record<string, keyof SessionPatch>;

/** Limits shared by the request validation and the database checks. */
export const SESSION_LIMITS = { minDurationMinutes: 5, maxDurationMinutes: 480, notes: 5000 } as const;

/** Patch keys a COMPLETED session refuses: its place in the timeline and its status are history. */
export function touchesSchedule(patch: SessionPatch): boolean {
  return patch.scheduledStart !== undefined || patch.durationMinutes !== undefined || patch.status !== undefined;
}
