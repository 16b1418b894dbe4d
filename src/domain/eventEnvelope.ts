/** The protobuf package of the event messages; an event's `type` is `<package>.<message>`. */
export const EVENTS_PACKAGE = 'coaching.events.v1';
/** CloudEvents `source` of every event this service produces. */
export const EVENT_SOURCE = '/coaching-service';
/** `datacontenttype` of a stream entry: its `data` field is protobuf JSON. */
export const STREAM_DATA_CONTENT_TYPE = 'application/json';
/** `datacontenttype` of a ListEvents event: `data` is the message itself, in an Any. */
export const RPC_DATA_CONTENT_TYPE = 'application/protobuf';
