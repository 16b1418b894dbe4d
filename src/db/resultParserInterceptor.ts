import { SchemaValidationError } from '@slonik/errors';
import type { Interceptor } from 'slonik';
import { plainRowCheck, type PlainRowCheck } from './plainRowCheck';

/**
 * Validates rows of `sql.type(schema)` queries (slonik validates nothing without it).
 *
 * Synchronous on purpose (`transformRow`, not `transformRowAsync`): for the
 * async hook slonik runs every row through a p-queue, one promise per row,
 * which was about 4 % of ListSessions' CPU (BENCHMARKS.md). The row schemas
 * are zod objects without async refinements, whose Standard Schema `validate`
 * answers synchronously (and zod compiles each object shape once). A schema
 * that can only validate asynchronously is refused loudly rather than let
 * through unchecked.
 *
 * A row of a plain schema (plainRowCheck.ts) that is exactly what the schema
 * accepts is returned as it is, without zod's copy: the same value zod would
 * return, at a fraction of the allocation. Every other row goes through zod.
 */
export function createResultParserInterceptor(): Interceptor {
  // Per schema (the `sql.type` of each statement is built once, at module load): null when it is not plain.
  const plainChecks = new WeakMap<object, PlainRowCheck | null>();
  const plainCheckOf = (parser: object): PlainRowCheck | null => {
    let check = plainChecks.get(parser);
    if (check === undefined) {
      check = plainRowCheck(parser) ?? null;
      plainChecks.set(parser, check);
    }
    return check;
  };
  return {
    name: 'result-parser',
    transformRow: (context, query, row) => {
      const parser = context.resultParser;
      if (parser === undefined) return row;
      if (plainCheckOf(parser)?.(row) === true) return row;
      const result = parser['~standard'].validate(row);
      if (result instanceof Promise) {
        // Nobody awaits it: keep its rejection from becoming an unhandled one.
        result.catch(() => undefined);
        throw new Error(
          'a row schema (sql.type) must validate synchronously: it answered with a promise (an async refinement or transform, or a check that threw)',
        );
      }
      if (result.issues !== undefined) throw new SchemaValidationError(query, row, result.issues);
      return result.value as typeof row;
    },
  };
}
