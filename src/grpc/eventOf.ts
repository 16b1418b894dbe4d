import * as events from '../generated/coaching/events/v1/events';
import { Enrollment } from '../generated/coaching/v1/enrollment';
import { Profile } from '../generated/coaching/v1/profile';
import { Program } from '../generated/coaching/v1/program';
import { Session } from '../generated/coaching/v1/session';
import { enrollmentToProto } from '../grpc/enrollmentMapper';
import { profileToProto } from '../grpc/profileMapper';
import { programToProto } from '../grpc/programMapper';
import { sessionToProto } from '../grpc/sessionMapper';
import type { Change, EncodedEvent } from '../domain/change';
import { EVENTS_PACKAGE } from '../domain/eventEnvelope';

/** What ts-proto generates for every message, as far as events need it. */
interface MessageCodec {
  toJSON(message: never): unknown;
  fromJSON(json: unknown): unknown;
  encode(message: never): { finish(): Uint8Array };
}

/** Every event message by its short name (ListEvents packs them into an Any). */
export const EVENT_MESSAGES: Readonly<Record<string, MessageCodec>> = {
  ProfileCreated: events.ProfileCreated,
  ProfileUpdated: events.ProfileUpdated,
  ProfileDeleted: events.ProfileDeleted,
  ProgramCreated: events.ProgramCreated,
  ProgramUpdated: events.ProgramUpdated,
  ProgramDeleted: events.ProgramDeleted,
  EnrollmentCreated: events.EnrollmentCreated,
  EnrollmentUpdated: events.EnrollmentUpdated,
  EnrollmentWithdrawn: events.EnrollmentWithdrawn,
  EnrollmentCompleted: events.EnrollmentCompleted,
  EnrollmentDeleted: events.EnrollmentDeleted,
  SessionScheduled: events.SessionScheduled,
  SessionUpdated: events.SessionUpdated,
  SessionCancelled: events.SessionCancelled,
  SessionCompleted: events.SessionCompleted,
  SessionDeleted: events.SessionDeleted,
};

interface ResourceEvents<Rec> {
  /** The event message's field holding the resource. */
  readonly field: string;
  readonly toJson: (record: Rec) => Record<string, unknown>;
  readonly created: string;
  readonly updated: string;
  readonly deleted: string;
  /** A status change with an event of its own (SessionCancelled), when the change is one. */
  readonly transition?: (before: Rec, after: Rec) => string | undefined;
}

const json =
  <Rec, P>(codec: { toJSON(message: P): unknown }, toProto: (record: Rec) => P) =>
  (record: Rec): Record<string, unknown> =>
    codec.toJSON(toProto(record)) as Record<string, unknown>;

const RESOURCES: { readonly [K in Change['kind']]: ResourceEvents<NonNullable<Extract<Change, { kind: K }>['after']>> } = {
  profile: { field: 'profile', toJson: json(Profile, profileToProto), created: 'ProfileCreated', updated: 'ProfileUpdated', deleted: 'ProfileDeleted' },
  program: { field: 'program', toJson: json(Program, programToProto), created: 'ProgramCreated', updated: 'ProgramUpdated', deleted: 'ProgramDeleted' },
  enrollment: {
    field: 'enrollment',
    toJson: json(Enrollment, enrollmentToProto),
    created: 'EnrollmentCreated',
    updated: 'EnrollmentUpdated',
    deleted: 'EnrollmentDeleted',
    transition: (before, after) =>
      before.status === after.status ? undefined : { WITHDRAWN: 'EnrollmentWithdrawn', COMPLETED: 'EnrollmentCompleted', ACTIVE: undefined }[after.status],
  },
  session: {
    field: 'session',
    toJson: json(Session, sessionToProto),
    created: 'SessionScheduled',
    updated: 'SessionUpdated',
    deleted: 'SessionDeleted',
    transition: (before, after) =>
      before.status === after.status
        ? undefined
        : { CANCELLED: 'SessionCancelled', COMPLETED: 'SessionCompleted', SCHEDULED: undefined, NO_SHOW: undefined }[after.status],
  },
};

/** Fields that change with every write: not news. */
const ALWAYS_CHANGING = new Set(['updateTime', 'etag']);

/** A FieldMask path as the wire holds it (proto field name) from its JSON form (lowerCamelCase). */
export const snakeCase = (jsonName: string): string => jsonName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * JSON names of the fields whose values differ between two states (protobuf
 * JSON omits defaults, so both key sets count). A FieldMask in protobuf JSON
 * is these names joined with commas.
 */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => !ALWAYS_CHANGING.has(name) && JSON.stringify(before[name]) !== JSON.stringify(after[name]));
}

/** The event a committed change produces (coaching.events.v1), as protobuf JSON. */
export function eventOf(change: Change): EncodedEvent {
  const spec = RESOURCES[change.kind] as ResourceEvents<never>;
  const { before, after } = change as { before?: never; after?: never };
  const record = after ?? before;
  if (record === undefined) throw new Error(`a ${change.kind} change without a before or after state`);
  const resource = spec.toJson(record);
  let name: string;
  let message: Record<string, unknown> = { [spec.field]: resource };
  if (before === undefined) name = spec.created;
  else if (after === undefined) name = spec.deleted;
  else {
    name = spec.transition?.(before, after) ?? spec.updated;
    message = { ...message, changedFields: changedFields(spec.toJson(before), resource).join(',') };
  }
  return { type: `${EVENTS_PACKAGE}.${name}`, subject: (record as { id: string }).id, data: message };
}
