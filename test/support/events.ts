import * as messages from '../../src/generated/coaching/events/v1/events';
import type { Event } from '../../src/generated/coaching/v1/event';
import type { coachingApi } from './grpcClient';

/** An event as a consumer sees it: envelope, and the event message decoded from its Any as protobuf JSON. */
export interface SeenEvent {
  readonly sequence: bigint;
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly traceId: string;
  readonly data: Record<string, any>;
  readonly envelope: Event;
}

const PREFIX = 'type.googleapis.com/coaching.events.v1.';

export function decodeEvent(event: Event): SeenEvent {
  const typeUrl = event.data?.typeUrl ?? '';
  if (!typeUrl.startsWith(PREFIX)) throw new Error(`unexpected Any type ${typeUrl}`);
  const codec = (messages as unknown as Record<string, { decode(b: Uint8Array): unknown; toJSON(m: unknown): unknown }>)[typeUrl.slice(PREFIX.length)];
  if (codec === undefined) throw new Error(`unknown event message ${typeUrl}`);
  return {
    sequence: BigInt(event.sequence),
    id: event.id,
    type: event.type,
    subject: event.subject,
    traceId: event.traceId,
    data: codec.toJSON(codec.decode(event.data!.value)) as Record<string, any>,
    envelope: event,
  };
}

/** Every event after `after`, paging through ListEvents. */
export async function eventsAfter(api: ReturnType<typeof coachingApi>, after: bigint, pageSize = 100): Promise<SeenEvent[]> {
  const seen: SeenEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await api.ok('listEvents', { afterSequence: String(cursor), pageSize });
    seen.push(...page.events.map(decodeEvent));
    if (page.events.length < pageSize) return seen;
    cursor = BigInt(page.nextAfterSequence);
  }
}

/** The sequence of the newest event now (0 when none): take it before the writes a test checks. */
export async function lastSequence(api: ReturnType<typeof coachingApi>): Promise<bigint> {
  const all = await eventsAfter(api, 0n);
  return all.at(-1)?.sequence ?? 0n;
}
