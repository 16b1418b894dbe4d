import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CommonQueryMethods } from 'slonik';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import type { EventMetricsSink as EventMetrics } from './EventMetricsSink';
import { idempotencyRepository } from '../repositories/idempotencyRepository';
import { jobLeases } from '../repositories/jobLeases';
import { outboxRepository } from '../repositories/outboxRepository';

export interface RetentionJobDeps {
  readonly db: DatabaseGateway;
  /** Outbox events live this long after publication (after being written, when no relay runs). */
  readonly eventsRetentionMs: number;
  readonly idempotencyRetentionMs: number;
  /** A relay publishes events: only published ones may expire. */
  readonly relayConfigured: boolean;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
}

type Table = 'outbox' | 'idempotency_keys';

/**
 * Deletes expired outbox events and idempotency keys, every `intervalMs`,
 * in small batches: each batch is its own short transaction holding the
 * retention lease (one replica at a time; an advisory lock, so a crashed
 * holder frees it), so no lock is held for long and writes go on meanwhile.
 * Each table's run is measured (rows, seconds).
 */
export function createRetentionJob(deps: RetentionJobDeps) {
  const { db, batchSize, logger, metrics } = deps;

  const batch: Record<Table, (tx: CommonQueryMethods) => Promise<number>> = {
    outbox: (tx) => outboxRepository.deleteExpired(tx, deps.eventsRetentionMs, batchSize, deps.relayConfigured),
    idempotency_keys: (tx) => idempotencyRepository.deleteExpired(tx, deps.idempotencyRetentionMs, batchSize),
  };

  /** Deletes what has expired in one table, batch by batch; the rows deleted (undefined: another replica holds the lease). */
  const purge = async (table: Table): Promise<number | undefined> => {
    const started = performance.now();
    let total = 0;
    for (;;) {
      const deleted = await db.write(`retention.${table}`, async (tx) => ((await jobLeases.tryTake(tx, 'retention')) ? batch[table](tx) : undefined));
      if (deleted === undefined) return total === 0 ? undefined : total;
      total += deleted;
      if (deleted < batchSize) break;
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.retention(table, total, seconds);
    if (total > 0) logger.info({ table, deleted: total, seconds }, 'retention deleted expired rows');
    return total;
  };

  /** One run over both tables; it also samples the outbox backlog (the relay samples it after each round it publishes). */
  const runOnce = async (): Promise<Record<Table, number | undefined>> => {
    const result = { outbox: await purge('outbox'), idempotency_keys: await purge('idempotency_keys') };
    const { count, oldestAgeSeconds } = await db.read('events.backlog', (c) => outboxRepository.backlog(c));
    metrics.backlog(count, oldestAgeSeconds);
    return result;
  };

  const stopping = new AbortController();
  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      // The first run comes one interval after start: replicas that start together do not all purge at once.
      await delay(deps.intervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) break;
      await runOnce().catch((error: unknown) => logger.warn({ err: error }, 'retention run failed; retried at the next interval'));
    }
  };

  let running: Promise<void> | undefined;
  return {
    runOnce,
    start(): void {
      running ??= loop();
    },
    async stop(): Promise<void> {
      stopping.abort();
      await running;
    },
  };
}
