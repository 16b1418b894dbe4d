import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

/**
 * Background jobs that one replica at a time may run, each with its
 * transaction-level advisory lock key (classid 7301 is this service's).
 * A lease lasts until the transaction ends, so a crashed holder frees it.
 */
const JOBS = { 'events-relay': 1, retention: 2, 'dead-letter-sweep': 3 } as const;
export type LeasedJob = keyof typeof JOBS;

export const jobLeases = {
  /** Takes the job's lease for this transaction; false when another replica holds it. */
  async tryTake(tx: CommonQueryMethods, job: LeasedJob): Promise<boolean> {
    return tx.oneFirst(sql.type(z.object({ taken: z.boolean() }))`select pg_try_advisory_xact_lock(7301, ${JOBS[job]}) as taken`);
  },
};
