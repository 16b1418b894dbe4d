import { SchemaValidationError } from '@slonik/errors';
import type { Interceptor } from 'slonik';

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
 */
export function createResultParserInterceptor(): Interceptor {
  return {
    name: 'result-parser',
    transformRow: (context, query, row) => {
      const parser = context.resultParser;
      if (parser === undefined) return row;
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
