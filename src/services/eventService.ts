import { FailedPreconditionError } from '../domain/errors';
import type { DatabaseGateway, WorkOptions } from '../db/DatabaseGateway';
import type { StoredEvent } from '../domain/storedEvent';
import { outboxRepository } from '../repositories/outboxRepository';

/** Reads of the outbox for consumers without Redis (ListEvents). */
export function createEventService(deps: { db: DatabaseGateway }) {
  const { db } = deps;
  return {
    /**
     * Up to `limit` events after `afterSequence`, in order; 0 starts at the
     * oldest retained event. Any other position below the retention mark
     * would silently skip deleted events, so it is refused (EVENTS_EXPIRED)
     * with the lowest position that is complete.
     * One snapshot: the mark and the rows agree.
     */
    list(afterSequence: bigint, limit: number, options?: WorkOptions): Promise<StoredEvent[]> {
      return db.snapshot(
        'events.list',
        async (tx) => {
          const retainedAfter = await outboxRepository.retainedAfter(tx);
          if (afterSequence !== 0n && afterSequence < BigInt(retainedAfter)) {
            throw new FailedPreconditionError(
              'EVENTS_EXPIRED',
              `events after sequence ${afterSequence} were deleted by retention; read from after_sequence ${retainedAfter} (and reconcile what was missed)`,
              { metadata: { retained_after: retainedAfter } },
            );
          }
          return outboxRepository.listAfter(tx, String(afterSequence), limit);
        },
        options,
      );
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;
