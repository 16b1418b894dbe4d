import { createPgDriverFactory } from '@slonik/pg-driver';
import type { DatabasePool, DriverFactory, Interceptor } from 'slonik';
import { databaseFailureCode } from './failureCode';

/** What the pool reports about connection acquisition and establishment. */
export interface PoolObserver {
  /** A caller got a connection after `waitMs`; `queued` when the pool was full and it had to wait for a release. */
  acquired(waitMs: number, queued: boolean): void;
  /** A new physical connection was opened (or failed to open, with its stable failure code) in `durationMs`. */
  connected(durationMs: number, failureCode?: string): void;
}

/** A point-in-time view of a pool, for health and metrics. */
export interface PoolSnapshot {
  readonly max: number;
  readonly active: number;
  readonly idle: number;
  /** Callers queued for a connection right now. */
  readonly waiting: number;
  /** Cumulative count of acquisitions that had to queue (slonik keeps none). */
  readonly waitCount: number;
  /** No idle connection and no room for a new one: a new caller would queue. */
  readonly full: boolean;
}

export interface PoolInstrumentation {
  /** For createDatabasePool: an interceptor timing every acquisition, and the pg driver with each new connection timed. */
  readonly poolOptions: { readonly interceptors: readonly Interceptor[]; readonly driverFactory: DriverFactory };
  /** Points the instrumentation at the pool built with `poolOptions` (again after a pool swap). */
  attach(pool: DatabasePool): void;
  /** The pool as it is now, or undefined before one is attached. */
  readonly snapshot: () => PoolSnapshot | undefined;
}

/**
 * Connection-level instrumentation of a slonik pool: acquisition wait (and
 * whether the caller had to queue, which slonik does not count), and the time
 * to open each physical connection. The attached pool's state tells whether
 * an acquisition will queue.
 */
export function createPoolInstrumentation(observer: PoolObserver): PoolInstrumentation {
  // slonik hands the same context object to before- and afterPoolConnection.
  const started = new WeakMap<object, { at: number; queued: boolean }>();
  let waitCount = 0;
  let pool: DatabasePool | undefined;

  const snapshot = (): PoolSnapshot | undefined => {
    if (pool === undefined) return undefined;
    const state = pool.state();
    const max = pool.configuration.maxPoolSize ?? 10;
    const active = state.acquiredConnections + state.pendingReleaseConnections;
    return {
      max,
      active,
      idle: state.idleConnections,
      waiting: state.waitingClients,
      waitCount,
      full: state.idleConnections === 0 && (active + state.pendingConnections >= max || state.waitingClients > 0),
    };
  };

  const interceptor: Interceptor = {
    name: 'pool-instrumentation',
    beforePoolConnection: (context) => {
      const queued = snapshot()?.full === true;
      if (queued) waitCount += 1;
      started.set(context, { at: performance.now(), queued });
      return null;
    },
    afterPoolConnection: (context) => {
      const start = started.get(context);
      if (start !== undefined) observer.acquired(performance.now() - start.at, start.queued);
      return null;
    },
  };

  const pgDriverFactory = createPgDriverFactory();
  const driverFactory: DriverFactory = async (options) => {
    const driver = await pgDriverFactory(options);
    return {
      ...driver,
      createClient: async () => {
        const at = performance.now();
        try {
          const client = await driver.createClient();
          observer.connected(performance.now() - at);
          return client;
        } catch (error) {
          observer.connected(performance.now() - at, databaseFailureCode(error));
          throw error;
        }
      },
    };
  };

  return {
    poolOptions: { interceptors: [interceptor], driverFactory },
    attach(current) {
      pool = current;
    },
    snapshot,
  };
}
