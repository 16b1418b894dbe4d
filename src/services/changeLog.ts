import type { CommonQueryMethods } from 'slonik';
import type { EnrollmentRecord } from '../domain/enrollment';
import type { ProfileRecord } from '../domain/profile';
import type { ProgramRecord } from '../domain/program';
import type { SessionRecord } from '../domain/session';

/** One committed change of one resource: created (no `before`), changed (both) or deleted (no `after`). */
interface ChangeOf<Kind extends string, Rec> {
  readonly kind: Kind;
  readonly before?: Rec;
  readonly after?: Rec;
}

export type Change =
  ChangeOf<'profile', ProfileRecord> | ChangeOf<'program', ProgramRecord> | ChangeOf<'enrollment', EnrollmentRecord> | ChangeOf<'session', SessionRecord>;

/** The kinds of resource a change can be about. */
export type ChangeKind = Change['kind'];

/**
 * Where a write records what it changed, inside its own transaction (the
 * transactional outbox, src/events/). Call it once per transaction, as the
 * write's last step (it takes the outbox's sequence lock: lockOrder.ts), and
 * inside `idempotent(...)`, so that a replayed request records nothing.
 */
export interface ChangeLog {
  append(tx: CommonQueryMethods, changes: readonly Change[]): Promise<void>;
}
