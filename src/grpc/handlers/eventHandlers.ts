import type { ListEventsRequest, ListEventsResponse } from '../../generated/coaching/v1/coaching_service';
import type { EventService } from '../../services/eventService';
import { eventToProto } from '../eventMapper';
import type { UnaryHandler } from '../wrapUnary';
import { pageSize } from './paging';
import { pageSizeViolation, reject } from './validation';

/** ListEvents: the outbox read for consumers without Redis. */
export function createEventHandlers(service: EventService) {
  const listEvents: UnaryHandler<ListEventsRequest, ListEventsResponse> = async (req, ctx) => {
    // int64 arrives as a decimal string (ts-proto forceLong=string).
    const after = BigInt(req.afterSequence);
    reject([after < 0n ? { field: 'after_sequence', description: 'must not be negative' } : undefined, pageSizeViolation(req.pageSize)]);
    const rows = await service.list(after, pageSize(req.pageSize), ctx);
    return { events: rows.map(eventToProto), nextAfterSequence: rows.at(-1)?.sequence ?? String(after) };
  };
  return { listEvents };
}
