import { EVENT_SOURCE, EVENTS_PACKAGE, RPC_DATA_CONTENT_TYPE } from '../domain/eventEnvelope';
import { EVENT_MESSAGES, snakeCase } from './eventOf';
import type { StoredEvent } from '../domain/storedEvent';
import type { Event } from '../generated/coaching/v1/event';
import { timestampOf } from './timestamps';

/**
 * The event message of an outbox row, packed into an Any. The row holds it
 * as protobuf JSON; ts-proto reads a FieldMask's JSON paths as they are
 * written (lowerCamelCase), so they are turned back into field names
 * (the binary form holds field names).
 */
function packData(row: StoredEvent): Event['data'] {
  const name = row.type.slice(EVENTS_PACKAGE.length + 1);
  const codec = EVENT_MESSAGES[name];
  if (!row.type.startsWith(`${EVENTS_PACKAGE}.`) || codec === undefined) throw new Error(`unknown event type ${row.type}`);
  // ts-proto holds a FieldMask as its list of paths.
  const message = codec.fromJSON(row.data) as { changedFields?: string[] };
  if (message.changedFields !== undefined) message.changedFields = message.changedFields.map(snakeCase);
  return { typeUrl: `type.googleapis.com/${row.type}`, value: Buffer.from(codec.encode(message as never).finish()) };
}

export function eventToProto(row: StoredEvent): Event {
  return {
    id: row.id,
    source: EVENT_SOURCE,
    type: row.type,
    subject: row.subject,
    time: timestampOf(row.time),
    datacontenttype: RPC_DATA_CONTENT_TYPE,
    sequence: row.sequence,
    traceId: row.traceId,
    data: packData(row),
  };
}
