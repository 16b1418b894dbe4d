import type { DomainError } from '../domain/errors';
import { violatedConstraint } from '../db/driverErrors';

/** SQLSTATEs of integrity violations that name a constraint. */
const INTEGRITY_STATES = ['23505', '23503', '23P01', '23514'] as const;

/** Maps constraint names to the domain error a violation of each stands for. */
export type ViolationTable = Readonly<Record<string, (cause: unknown) => DomainError>>;

/**
 * Runs a statement and rethrows a violation of a constraint listed in `table`
 * as its domain error (the driver error kept as cause); anything else is
 * rethrown unchanged. Constraints are matched by name, never by message.
 */
export async function guarded<T>(statement: Promise<T>, table: ViolationTable): Promise<T> {
  try {
    return await statement;
  } catch (error) {
    for (const state of INTEGRITY_STATES) {
      const constraint = violatedConstraint(error, state);
      const translate = constraint === undefined ? undefined : table[constraint];
      if (translate !== undefined) throw translate(error);
    }
    throw error;
  }
}
