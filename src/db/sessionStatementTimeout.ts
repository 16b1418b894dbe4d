import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabasePool, DriverClient, DriverFactory } from 'slonik';
import { createTransactionTracker } from './transactionControl';

/**
 * A per-connection session `statement_timeout` that keeps PostgreSQL from
 * working past the caller's deadline without a transaction per read (README
 * "Design decisions": one round trip per read).
 *
 * The gateway runs a unit of work inside `withStatementDeadline(deadline)`.
 * Before each statement sent outside a transaction, the driver wrapper makes
 * sure the connection's session timeout is never above the time the caller has
 * left, and not needlessly far below it (at most one bucket under
 * bucket(remaining), see `timeoutToSet`). Buckets keep one significant digit
 * (4 990 ms left → 4 000 ms), so callers with similar deadlines find the value
 * already in place and no `SET` is sent.
 * Statements without a deadline (other work, housekeeping, migrations) find the
 * pool's own timeout restored first. Each physical connection remembers its
 * value; nothing is sent inside a transaction, where a rollback would undo a
 * session `SET` (there the gateway's `SET LOCAL` governs).
 *
 * Session mode only: behind a transaction pooler a session setting would leak
 * to other clients' transactions, so those pools are never wrapped and the
 * gateway keeps `SET LOCAL` in a transaction (`boundsStatementsPerConnection`).
 */
const deadlines = new AsyncLocalStorage<number>();
const wrappedPools = new WeakSet<DatabasePool>();

/** Runs `work` with statements bounded by `deadline` (epoch ms) on connections that support it. */
export function withStatementDeadline<T>(deadline: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadline, work);
}

/** Whether `pool`'s connections enforce `withStatementDeadline` themselves (session pool mode). */
export function boundsStatementsPerConnection(pool: DatabasePool): boolean {
  return wrappedPools.has(pool);
}

/** Records that `pool` was built on `sessionTimeoutDriver`. */
export function markBoundedPool(pool: DatabasePool): void {
  wrappedPools.add(pool);
}

/** The largest one-significant-digit value ≤ `remainingMs` (at least 1), or `ceilingMs` when there is that much time. */
export function timeoutBucketMs(remainingMs: number, ceilingMs: number): number {
  if (remainingMs >= ceilingMs) return ceilingMs;
  const ms = Math.max(1, Math.floor(remainingMs));
  const step = 10 ** Math.floor(Math.log10(ms));
  return Math.floor(ms / step) * step;
}

/**
 * The session timeout to SET before a statement with `remainingMs` left
 * (undefined: no deadline), or undefined when the value in place fits. Without a
 * deadline only the pool's own timeout fits. With one, a value fits when it is
 * not above the time left and at most one bucket below the target: a round
 * client deadline sits on a bucket boundary (5 000 ms left on one call, 4 999 ms
 * on the next), and requiring the target itself flipped the value between 5 000
 * and 4 000 on about one call in five, each flip one more round trip.
 */
export function timeoutToSet(currentMs: number, remainingMs: number | undefined, defaultMs: number): number | undefined {
  if (remainingMs === undefined) return currentMs === defaultMs ? undefined : defaultMs;
  const target = timeoutBucketMs(remainingMs, defaultMs);
  return currentMs <= remainingMs && currentMs >= timeoutBucketMs(target - 1, defaultMs) ? undefined : target;
}

/** Below every target: a connection whose SET failed is set again before its next statement. */
const UNKNOWN = -1;

/** Wraps one physical connection; `defaultMs` is the timeout it started with (the startup parameter). */
export function sessionTimeoutClient(client: DriverClient, defaultMs: number): DriverClient {
  let current = defaultMs;
  const transaction = createTransactionTracker();
  const query: DriverClient['query'] = async (text, values, options) => {
    // COMMIT and ROLLBACK themselves still run inside the transaction.
    const inTransaction = transaction.open();
    transaction.sent(text);
    if (inTransaction) return client.query(text, values, options);
    const deadline = deadlines.getStore();
    const target = timeoutToSet(current, deadline === undefined ? undefined : deadline - Date.now(), defaultMs);
    if (target !== undefined) {
      // A session SET outside a transaction: it stays until changed (no DISCARD ALL on release).
      current = UNKNOWN;
      await client.query(`set statement_timeout = ${String(target)}`);
      current = target;
    }
    const result = await client.query(text, values, options);
    transaction.succeeded(text);
    return result;
  };
  return { ...client, query };
}

/** The driver with every connection wrapped by `sessionTimeoutClient`. */
export function sessionTimeoutDriver(inner: DriverFactory, defaultMs: number): DriverFactory {
  return async (options) => {
    const driver = await inner(options);
    return { ...driver, createClient: async () => sessionTimeoutClient(await driver.createClient(), defaultMs) };
  };
}
