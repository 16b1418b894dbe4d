import type { CommonQueryMethods, DatabasePool } from 'slonik';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors';
import { translateDriverError } from './driverErrors';

/** Options of one unit of database work. */
export interface WorkOptions {
  /** Absolute time by which the caller needs the answer. */
  readonly deadline?: Date;
}

/**
 * The one door to PostgreSQL for the services. It owns the current pool
 * (swappable on credential reload), runs reads on the pool and writes in a
 * transaction, and turns driver failures into domain errors.
 */
export interface DatabaseGateway {
  read<T>(operation: string, work: (db: CommonQueryMethods) => Promise<T>, options?: WorkOptions): Promise<T>;
  write<T>(operation: string, work: (tx: CommonQueryMethods) => Promise<T>, options?: WorkOptions): Promise<T>;
}

export interface PoolHolder {
  current(): DatabasePool;
}

/** Observes every unit of work (metrics hook); `error` is what the work threw, before translation. */
export type QueryObserver = (operation: string, durationMs: number, error?: unknown) => void;

export function createDatabaseGateway(deps: { pools: PoolHolder; logger: Logger; observe?: QueryObserver }): DatabaseGateway {
  const run = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await work();
      deps.observe?.(operation, performance.now() - started);
      return result;
    } catch (error) {
      deps.observe?.(operation, performance.now() - started, error);
      if (error instanceof DomainError) throw error;
      const translated = translateDriverError(error);
      if (translated === undefined) throw error;
      deps.logger.warn({ operation, reason: translated.reason, err: error }, 'database operation failed');
      throw translated;
    }
  };
  return {
    read: (operation, work) => run(operation, () => work(deps.pools.current())),
    write: (operation, work) => run(operation, () => deps.pools.current().transaction((tx) => work(tx))),
  };
}
