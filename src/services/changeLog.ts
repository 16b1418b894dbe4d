import type { CommonQueryMethods } from 'slonik';
import type { Change } from '../domain/change';

export type { Change, ChangeKind } from '../domain/change';

/**
 * Where a write records what it changed, inside its own transaction (the
 * transactional outbox, src/events/). Call it once per transaction, as the
 * write's last step (its events are numbered at commit, under the outbox's
 * sequence lock: migration 0005), and inside `idempotent(...)`, so that a
 * replayed request records nothing.
 */
export interface ChangeLog {
  append(tx: CommonQueryMethods, changes: readonly Change[]): Promise<void>;
}
