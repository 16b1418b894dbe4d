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
 * reads; it refuses when the statement's result columns have changed
 * ("cached plan must not change result type", 0A000 raised by
 * RevalidateCachedQuery), and re-analysis with the parameter types fixed at
 * prepare time can fail where a fresh statement would not (isStaleFailure).
 * When a statement prepared earlier fails so, the connection moves to a new
 * generation of names, so statements are prepared afresh, and a statement
 * outside a transaction is sent again at once. Inside a transaction the error has
 * aborted it: it becomes a StalePreparedStatementError, which the policy
 * retries like a serialization failure (the transaction rolled back).
 */

/** Distinct statements one connection keeps prepared; beyond it, statements go unnamed (dynamic SQL must not grow the server's memory without bound). */
const MAX_PER_CONNECTION = 500;
/** Texts whose names are remembered (hashing is not free); beyond it, names are recomputed. */
const MAX_REMEMBERED_NAMES = 2000;
/** Transaction control and settings: nothing to plan. */
const UNPLANNED = /^\s*(start\s+transaction|begin|commit|rollback|end|abort|savepoint|release|set|reset|discard|deallocate|listen|unlisten)\b/i;

const codeOf = (error: unknown): unknown => (typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined);
/**
 * What a statement prepared before a schema change can fail with although the same text sent afresh
 * might not: "cached plan must not change result type" (0A000 from RevalidateCachedQuery), or an
 * analysis error (class 42) because its parameter types were fixed when it was prepared (a column
 * retyped from text to integer: 42804 where a fresh statement would say 22P02).
 */
const isStaleFailure = (error: unknown): boolean => {
  const code = codeOf(error);
  if (code === '0A000') return (error as { routine?: unknown }).routine === 'RevalidateCachedQuery';
  return typeof code === 'string' && code.startsWith('42');
};

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
    return prepared.has(name) || prepared.size < MAX_PER_CONNECTION ? name : undefined;
  };
  const send = async (text: string, values: unknown[] | undefined, options: Parameters<DriverClient['query']>[2], name: string | undefined) => {
    try {
      const result = await client.query(text, values, name === undefined ? options : { ...options, name });
      if (name !== undefined) prepared.add(name);
      return result;
    } catch (error) {
      // Parsed (it failed later, e.g. a constraint): pg keeps it prepared on this connection.
      if (name !== undefined && !isStaleFailure(error)) prepared.add(name);
      throw error;
    }
  };
  const query: DriverClient['query'] = async (text, values, options) => {
    transaction.sent(text);
    const name = options?.name ?? named(text);
    const reused = name !== undefined && prepared.has(name);
    try {
      const result = await send(text, values, options, name);
      transaction.succeeded(text);
      return result;
    } catch (error) {
      // Only a statement prepared earlier can be stale; a fresh one failed for its own reasons.
      if (!reused || options?.name !== undefined || !isStaleFailure(error)) throw error;
      // Every statement prepared before the schema change may be stale: prepare them afresh under new names.
      generation += 1;
      prepared.clear();
      // The transaction is aborted and rolls back: nothing was written, so the policy may run it again.
      if (transaction.open()) throw new StalePreparedStatementError(error);
      return send(text, values, options, named(text));
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
