import type { StoredEvent } from '../domain/storedEvent';
import { EVENT_SOURCE, STREAM_DATA_CONTENT_TYPE } from '../domain/eventEnvelope';

/**
 * The fields of an event's stream entry: the CloudEvents attributes
 * (specversion, id, source, type, subject, time, datacontenttype), the
 * extensions `sequence` and `traceid`, and `data`, the event message in
 * protobuf JSON (README, "Events").
 */
export function streamFields(event: StoredEvent): string[] {
  return [
    'specversion',
    '1.0',
    'id',
    event.id,
    'source',
    EVENT_SOURCE,
    'type',
    event.type,
    'subject',
    event.subject,
    'time',
    event.time.toISOString(),
    'datacontenttype',
    STREAM_DATA_CONTENT_TYPE,
    'sequence',
    event.sequence,
    'traceid',
    event.traceId,
    'data',
    JSON.stringify(event.data),
  ];
}
