import { SchemaValidationError } from '@slonik/errors';
import type { Interceptor } from 'slonik';

/** Validates rows of `sql.type(schema)` queries (slonik validates nothing without it). */
export function createResultParserInterceptor(): Interceptor {
  return {
    name: 'result-parser',
    transformRowAsync: async (context, query, row) => {
      const parser = context.resultParser;
      if (parser === undefined) return row;
      const result = await parser['~standard'].validate(row);
      if (result.issues !== undefined) throw new SchemaValidationError(query, row, result.issues);
      return result.value as typeof row;
    },
  };
}
