import type { CommonQueryMethods } from 'slonik';
import { UnavailableError } from '../../domain/errors';
import type { BreakerState } from '../../resilience/createDatabasePolicy';
import type { DatabaseGateway, WorkOptions } from '../DatabaseGateway';
import type { DataSourceContext } from './DataSourceContext';
import type { EndpointView } from './EndpointTopology';

export interface ReadRouterDeps {
  /** The gateway to the primary (its pool follows failovers; its breaker is the primary's). */
  readonly primary: DatabaseGateway;
  readonly primaryBreaker: () => BreakerState;
  /** Whether a primary has been found. */
  readonly primaryKnown: () => boolean;
  /** The gateway to the standby chosen now (its own pool and breaker), or undefined when none is readable. */
  readonly standby: () => { gateway: DatabaseGateway; view: EndpointView } | undefined;
  readonly context: DataSourceContext;
  /** How soon a refused write is worth retrying (the health interval: the next look for a primary). */
  readonly retryAfterMs: number;
  /** The primary failed on the request path: look for a new one now. */
  readonly suspect: () => void;
}

const primaryUnavailable = (retryAfterMs: number, cause?: unknown): UnavailableError =>
  new UnavailableError('PRIMARY_UNAVAILABLE', 'the primary database is unavailable: writes fail until it is back or a standby is promoted; retry later', {
    retryAfterMs,
    // A write whose connection was lost mid-commit may have happened: keep what the cause says.
    retry: cause instanceof UnavailableError ? (cause.retry ?? 'safe') : 'safe',
    ...(cause !== undefined && { cause }),
  });

/**
 * Routes the services' database work across the cluster: every read goes to
 * the primary while it is usable (the latest committed data); when it is not
 * (no primary found, its breaker open or isolated, or the read failed for
 * lack of a connection), reads go to a healthy standby and the call is
 * marked as served by it. Writes go to the primary only, and fail fast with
 * PRIMARY_UNAVAILABLE (and RetryInfo) while there is none.
 */
export function createReadRouter(deps: ReadRouterDeps): DatabaseGateway {
  const primaryUsable = (): boolean => deps.primaryKnown() && deps.primaryBreaker() !== 'open' && deps.primaryBreaker() !== 'isolated';

  const onStandby = <T>(read: (gateway: DatabaseGateway) => Promise<T>, cause: unknown): Promise<T> => {
    const source = deps.context.current();
    const standby = deps.standby();
    if (source?.requirePrimary === true || standby === undefined) {
      if (cause instanceof UnavailableError && cause.reason !== 'PRIMARY_UNAVAILABLE' && primaryUsable()) throw cause;
      throw primaryUnavailable(deps.retryAfterMs, cause);
    }
    if (source !== undefined) source.standby = { endpoint: standby.view.key, replayTime: standby.view.facts?.replayTime ?? null };
    return read(standby.gateway);
  };

  const routeRead = async <T>(read: (gateway: DatabaseGateway) => Promise<T>): Promise<T> => {
    if (!primaryUsable()) return onStandby(read, undefined);
    try {
      return await read(deps.primary);
    } catch (error) {
      // A read is safe to run again: one the primary could not take goes to a standby.
      if (error instanceof UnavailableError && (error.retry === 'safe' || error.retry === 'ambiguous')) {
        deps.suspect();
        return onStandby(read, error);
      }
      throw error;
    }
  };

  return {
    read: <T>(operation: string, work: (db: CommonQueryMethods) => Promise<T>, options?: WorkOptions) => routeRead((g) => g.read(operation, work, options)),
    snapshot: <T>(operation: string, work: (tx: CommonQueryMethods) => Promise<T>, options?: WorkOptions) =>
      routeRead((g) => g.snapshot(operation, work, options)),
    async write(operation, work, options) {
      if (!primaryUsable()) throw primaryUnavailable(deps.retryAfterMs);
      try {
        return await deps.primary.write(operation, work, options);
      } catch (error) {
        // Refused, lost or read-only (a demoted primary): the topology must look again.
        if (error instanceof UnavailableError) {
          deps.suspect();
          throw primaryUnavailable(deps.retryAfterMs, error);
        }
        throw error;
      }
    },
  };
}
