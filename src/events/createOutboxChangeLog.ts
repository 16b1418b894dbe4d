import { randomUUID } from 'node:crypto';
import type { ChangeLog } from '../services/changeLog';
import { outboxRepository } from '../repositories/outboxRepository';
import { eventOf } from './eventOf';

/**
 * The services' ChangeLog: each change becomes its coaching.events.v1 event,
 * appended to the outbox in the write's own transaction, so an event exists
 * exactly when its change committed. `traceId` gives the correlation id of
 * the request being served (empty outside a request: the seed, jobs).
 */
export function createOutboxChangeLog(deps: { traceId: () => string | undefined }): ChangeLog {
  return {
    append: (tx, changes) =>
      outboxRepository.append(
        tx,
        changes.map((change) => ({ id: randomUUID(), traceId: deps.traceId() ?? '', ...eventOf(change) })),
      ),
  };
}
