/**
 * A domain event as the outbox holds it: the envelope attributes that vary
 * and the event message (coaching.events.v1) as protobuf JSON. `sequence`
 * is a decimal string (int8 can pass 2^53).
 */
export interface StoredEvent {
  readonly sequence: string;
  readonly id: string;
  /** Full name of the event message, e.g. coaching.events.v1.ProfileCreated. */
  readonly type: string;
  /** Id of the resource the event is about. */
  readonly subject: string;
  readonly time: Date;
  /** Correlation id of the request that wrote it; empty for none. */
  readonly traceId: string;
  readonly data: unknown;
  /** When the relay put it on the stream; undefined while it waits. */
  readonly publishedTime: Date | undefined;
}
