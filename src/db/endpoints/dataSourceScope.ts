import { ValidationError } from '../../domain/errors';
import type { DataSourceContext } from './DataSourceContext';

/** The part of gRPC metadata read here (structural: data access does not import gRPC). */
interface RequestMetadata {
  get(key: string): unknown[];
}

/**
 * The RPC wrapper's per-call scope for the read router: `x-require-primary: true`
 * in, and `x-data-source: standby` (with `x-data-source-endpoint` and
 * `x-data-source-replay-time`) out when a read of the call was served by a standby.
 */
export function dataSourceScope(context: DataSourceContext) {
  return {
    open(metadata: RequestMetadata) {
      const requirePrimary = requirePrimaryOf(metadata.get('x-require-primary'));
      const source = { requirePrimary: requirePrimary === true } as Parameters<DataSourceContext['run']>[0];
      return {
        // A refused header fails the call inside its promise (INVALID_ARGUMENT), never in open().
        run: <T>(work: () => Promise<T>): Promise<T> =>
          requirePrimary === undefined
            ? Promise.reject(new ValidationError([{ field: 'x-require-primary', description: 'must be true or false' }]))
            : context.run(source, work),
        headers(): Record<string, string> {
          const standby = source.standby;
          if (standby === undefined) return {};
          return {
            'x-data-source': 'standby',
            'x-data-source-endpoint': standby.endpoint,
            ...(standby.replayTime !== null && { 'x-data-source-replay-time': standby.replayTime.toISOString() }),
          };
        },
      };
    },
  };
}

/**
 * `x-require-primary`: absent is false; `true` or `false` in any case; anything
 * else (or the header sent twice with different values) is undefined, refused:
 * a caller who meant to forbid standby reads must not get one silently.
 */
export function requirePrimaryOf(values: readonly unknown[]): boolean | undefined {
  if (values.length === 0) return false;
  const words = new Set(values.map((value) => (typeof value === 'string' ? value.trim().toLowerCase() : '')));
  if (words.size !== 1) return undefined;
  const [word] = words;
  return word === 'true' ? true : word === 'false' ? false : undefined;
}
