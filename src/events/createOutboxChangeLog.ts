import { randomUUID } from 'node:crypto';
import type { Change, EncodedEvent } from '../domain/change';
import { outboxRepository } from '../repositories/outboxRepository';
import type { ChangeLog } from '../services/changeLog';

/**
 * The services' ChangeLog: each change becomes its coaching.events.v1 event
 * (`encode`: the proto mapping, grpc/eventOf.ts, handed in by the root),
 * appended to the outbox in the write's own transaction, so an event exists
 * exactly when its change committed. `traceId` gives the correlation id of
 * the request being served (empty outside a request: the seed, jobs).
 */
export function createOutboxChangeLog(deps: { encode: (change: Change) => EncodedEvent; traceId: () => string | undefined }): ChangeLog {
  return {
    append: (tx, changes, alongside) =>
      outboxRepository.append(
        tx,
        changes.map((change) => ({ id: randomUUID(), traceId: deps.traceId() ?? '', ...deps.encode(change) })),
        alongside,
      ),
  };
}
