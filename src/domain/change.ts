import type { EnrollmentRecord } from './enrollment';
import type { ProfileRecord } from './profile';
import type { ProgramRecord } from './program';
import type { SessionRecord } from './session';

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

/** The event a change produces, ready for the outbox: its type, the resource id and the event message as protobuf JSON. */
export interface EncodedEvent {
  readonly type: string;
  readonly subject: string;
  readonly data: unknown;
}
