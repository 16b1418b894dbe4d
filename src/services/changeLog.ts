import type { CommonQueryMethods, FragmentSqlToken } from 'slonik';
import type { Change } from '../domain/change';

export type { Change, ChangeKind } from '../domain/change';

/**
 * Where a write records what it changed, inside its own transaction (the
 * transactional outbox, src/events/). Call it once per transaction, as the
 * write's last step (its events are numbered at commit, under the outbox's
 * sequence lock: migration 0005). A write under `idempotent(...)` returns
 * its changes instead: idempotent appends them with the stored response, and
 * a replayed request records nothing.
 */
export interface ChangeLog {
  /** `alongside`: a data-modifying statement of the same write to send with the append (one round trip). */
  append(tx: CommonQueryMethods, changes: readonly Change[], alongside?: FragmentSqlToken): Promise<void>;
}
