import { createHash } from 'node:crypto';
import type { DriverClient, DriverFactory } from 'slonik';
import { createTransactionTracker } from './transactionControl';

/**
 * Named (prepared) statements (README "Design decisions": prepared statements).
 * slonik sends unnamed statements, which PostgreSQL parses and plans on every
 * call. This driver wrapper gives each statement a name derived from a hash of
 * its text (the text holds `$n` placeholders, never values), so pg parses it
 * once per connection and PostgreSQL keeps its plan. Off with
 * DB_PREPARED_STATEMENTS=false (PgBouncer before 1.21 in transaction pooling).
 *
 * PostgreSQL re-plans a prepared statement by itself after DDL on the tables it
 * reads; it refuses only when the statement's result columns have changed
 * ("cached plan must not change result type", 0A000 raised by
 * RevalidateCachedQuery). Then the connection moves to a new generation of
 * names, so the statement is prepared afresh, and a statement outside a
 * transaction is sent again at once. Inside a transaction the error has
 * aborted it: it becomes a StalePreparedStatementError, which the policy
 * retries like a serialization failure (the transaction rolled back).
 */

/** Distinct statements one connection keeps prepared; beyond it, statements go unnamed (dynamic SQL must not grow the server's memory without bound). */
const MAX_PER_CONNECTION = 500;
/** Texts whose names are remembered (hashing is not free); beyond it, names are recomputed. */
const MAX_REMEMBERED_NAMES = 2000;
/** Transaction control and settings: nothing to plan. */
const UNPLANNED = /^\s*(start\s+transaction|begin|commit|rollback|end|abort|savepoint|release|set|reset|discard|deallocate|listen|unlisten)\b/i;

const isStaleResultType = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '0A000' && (error as { routine?: unknown }).routine === 'RevalidateCachedQuery';

/** A prepared statement went stale inside a transaction (the schema changed under it): the transaction rolled back, the next attempt prepares afresh. */
export class StalePreparedStatementError extends Error {
  override readonly name = 'StalePreparedStatementError';
  constructor(cause: unknown) {
    super('a prepared statement went stale after a schema change; the transaction was rolled back', { cause });
  }
}

/** Names statement texts, one name per text (a truncated SHA-1: 2^-80 chance of a clash per pair). */
export function createStatementNamer(): (text: string) => string {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined) {
      name = `s_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
      if (names.size >= MAX_REMEMBERED_NAMES) names.clear();
      names.set(text, name);
    }
    return name;
  };
}

/** Wraps one physical connection so that its statements are named. */
export function preparedStatementClient(client: DriverClient, nameOf: (text: string) => string): DriverClient {
  const prepared = new Set<string>();
  let generation = 0;
  const transaction = createTransactionTracker();
  const named = (text: string): string | undefined => {
    if (UNPLANNED.test(text)) return undefined;
    const name = generation === 0 ? nameOf(text) : `${nameOf(text)}_${String(generation)}`;
    if (prepared.has(name)) return name;
    if (prepared.size >= MAX_PER_CONNECTION) return undefined;
    prepared.add(name);
    return name;
  };
  const query: DriverClient['query'] = async (text, values, options) => {
    transaction.sent(text);
    const name = options?.name ?? named(text);
    try {
      const result = await client.query(text, values, name === undefined ? options : { ...options, name });
      transaction.succeeded(text);
      return result;
    } catch (error) {
      if (name === undefined || options?.name !== undefined || !isStaleResultType(error)) throw error;
      // Every statement prepared before the schema change may be stale: prepare them afresh under new names.
      generation += 1;
      prepared.clear();
      // The transaction is aborted and rolls back: nothing was written, so the policy may run it again.
      if (transaction.open()) throw new StalePreparedStatementError(error);
      return client.query(text, values, { ...options, name: named(text) ?? '' });
    }
  };
  return { ...client, query };
}

/** The driver with every connection's statements named. */
export function preparedStatementDriver(inner: DriverFactory): DriverFactory {
  return async (options) => {
    const driver = await inner(options);
    const nameOf = createStatementNamer();
    return { ...driver, createClient: async () => preparedStatementClient(await driver.createClient(), nameOf) };
  };
}
