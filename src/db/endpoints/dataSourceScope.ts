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
      const source = { requirePrimary: metadata.get('x-require-primary')[0] === 'true' } as Parameters<DataSourceContext['run']>[0];
      return {
        run: <T>(work: () => Promise<T>): Promise<T> => context.run(source, work),
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
