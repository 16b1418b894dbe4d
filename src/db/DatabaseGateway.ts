import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
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
  /** Several reads that must agree: one REPEATABLE READ, READ ONLY transaction, so every query sees the same snapshot. */
  snapshot<T>(operation: string, work: (tx: CommonQueryMethods) => Promise<T>, options?: WorkOptions): Promise<T>;
  write<T>(operation: string, work: (tx: CommonQueryMethods) => Promise<T>, options?: WorkOptions): Promise<T>;
}

export interface PoolHolder {
  current(): DatabasePool;
}

export function createDatabaseGateway(deps: { pools: PoolHolder; logger: Logger }): DatabaseGateway {
  const run = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const translated = translateDriverError(error);
      if (translated === undefined) throw error;
      deps.logger.warn({ operation, reason: translated.reason, err: error }, 'database operation failed');
      throw translated;
    }
  };
  return {
    read: (operation, work) => run(operation, () => work(deps.pools.current())),
    snapshot: (operation, work) =>
      run(operation, () =>
        deps.pools.current().transaction(async (tx) => {
          // Must be the transaction's first statement: the snapshot is taken by the next query.
          await tx.query(sql.unsafe`set transaction isolation level repeatable read, read only`);
          return work(tx);
        }),
      ),
    write: (operation, work) => run(operation, () => deps.pools.current().transaction((tx) => work(tx))),
  };
}
