/**
 * Every error reason the service returns (google.rpc.ErrorInfo.reason and the
 * `x-error-reason` trailer), declared once: a closed type, so no code path
 * can invent one. Each names the RPCs that return it; `test/errorReasons.test.ts`
 * checks that the proto comment of each of them documents it ('*': the
 * service comment, for reasons any of its RPCs may return).
 */
export const ERROR_REASONS = {
  // Any RPC of coaching.v1.CoachingService (the service comment lists them).
  INVALID_ARGUMENT: {
    coaching: '*',
    health: ['ListHealthEvents'],
    admin: ['ResetCircuitBreaker', 'IsolateCircuitBreaker', 'ChooseDatabasePrimary', 'ListDeadLetters', 'ReplayDeadLetter', 'DiscardDeadLetter'],
  },
  NOT_FOUND: { coaching: '*' },
  ETAG_MISMATCH: { coaching: '*' },
  REQUEST_ID_REUSED: { coaching: '*' },
  DEADLINE_EXCEEDED: { coaching: '*' },
  INTERNAL: { coaching: '*' },
  DATABASE_UNAVAILABLE: { coaching: '*' },
  DATABASE_CONNECTING: { coaching: '*' },
  DATABASE_AUTH_FAILED: { coaching: '*' },
  DATABASE_READ_ONLY: { coaching: '*' },
  DATABASE_BUSY: { coaching: '*' },
  CIRCUIT_OPEN: { coaching: '*' },
  CIRCUIT_ISOLATED: { coaching: '*' },
  TRANSACTION_CONFLICT: { coaching: '*' },
  PRIMARY_UNAVAILABLE: { coaching: '*' },
  // Per RPC.
  EMAIL_TAKEN: { coaching: ['CreateProfile', 'UpdateProfile'] },
  PROFILE_IN_USE: { coaching: ['DeleteProfile'] },
  COACH_NOT_FOUND: { coaching: ['CreateProgram', 'CreateSession'] },
  NOT_A_COACH: { coaching: ['CreateProgram', 'CreateSession'] },
  PROGRAM_HAS_ENROLLMENTS: { coaching: ['UpdateProgram'] },
  PROGRAM_IN_USE: { coaching: ['DeleteProgram'] },
  PARTICIPANT_NOT_FOUND: { coaching: ['CreateEnrollment', 'CreateSession'] },
  NOT_A_PARTICIPANT: { coaching: ['CreateEnrollment', 'CreateSession'] },
  PROGRAM_NOT_FOUND: { coaching: ['CreateEnrollment', 'CreateSession'] },
  PROGRAM_NOT_ACTIVE: { coaching: ['CreateEnrollment'] },
  ENROLLMENT_EXISTS: { coaching: ['CreateEnrollment'] },
  ENROLLMENT_COMPLETED: { coaching: ['UpdateEnrollment', 'CreateSession', 'CompleteSession'] },
  ENROLLMENT_WITHDRAWN: { coaching: ['CreateSession', 'CompleteSession'] },
  ENROLLMENT_IN_USE: { coaching: ['DeleteEnrollment'] },
  NOT_ENROLLED: { coaching: ['CreateSession'] },
  DOUBLE_BOOKED: { coaching: ['CreateSession', 'UpdateSession'] },
  SESSION_COMPLETED: { coaching: ['UpdateSession', 'DeleteSession'] },
  SESSION_NOT_SCHEDULED: { coaching: ['CompleteSession'] },
  EVENTS_EXPIRED: { coaching: ['ListEvents'] },
  EVENTS_STREAM_NOT_CONFIGURED: { admin: ['ListDeadLetters', 'ReplayDeadLetter', 'DiscardDeadLetter'] },
  REDIS_UNAVAILABLE: { admin: ['ListDeadLetters', 'ReplayDeadLetter', 'DiscardDeadLetter'] },
  MOVED_TO_ADMIN_LISTENER: { health: ['ResetCircuitBreaker', 'IsolateCircuitBreaker'] },
  UNAUTHENTICATED: {
    admin: [
      'ListCircuitBreakers',
      'ResetCircuitBreaker',
      'IsolateCircuitBreaker',
      'ListDatabaseEndpoints',
      'ChooseDatabasePrimary',
      'ListDeadLetters',
      'ReplayDeadLetter',
      'DiscardDeadLetter',
    ],
  },
} as const satisfies Record<string, Partial<Record<'coaching' | 'health' | 'admin', '*' | readonly string[]>>>;

export type ErrorReason = keyof typeof ERROR_REASONS;
