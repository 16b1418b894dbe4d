import { setTimeout as delay } from 'node:timers/promises';
import { BrokenCircuitError, CircuitState, IsolatedCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import type { EventMetricsSink as EventMetrics } from './EventMetricsSink';
import { jobLeases } from '../repositories/jobLeases';
import { outboxRepository } from '../repositories/outboxRepository';
import { PUBLISH_SCRIPT } from './redis/publishScript';
import { streamFields } from './streamEntry';

export interface EventRelayDeps {
  readonly db: DatabaseGateway;
  readonly redis: Redis;
  /** The breaker in front of Redis (shared with the sweeper and the health check). */
  readonly breaker: CircuitBreakerPolicy;
  readonly stream: string;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
}

/** Moves outbox events to the Redis stream in sequence order, one transaction per round, exactly once whatever fails: README "Events" (the relay) and "Design decisions", "The stream entry ID is the sequence". */
export function createEventRelay(deps: EventRelayDeps) {
  const { db, redis, breaker, stream, batchSize, intervalMs, logger, metrics } = deps;

  /** One round; the number of events it moved (0 when drained or when another replica holds the lease). */
  const round = (): Promise<number> =>
    db.write('events.relay', async (tx) => {
      if (!(await jobLeases.tryTake(tx, 'events-relay'))) return 0;
      const batch = await outboxRepository.unpublished(tx, batchSize);
      if (batch.length === 0) {
        metrics.backlog(0, 0);
        return 0;
      }
      const args = batch.flatMap((event) => {
        const fields = streamFields(event);
        return [event.sequence, String(fields.length), ...fields];
      });
      const [added, skipped] = (await breaker.execute(() => redis.eval(PUBLISH_SCRIPT, 1, stream, ...args))) as [number, number];
      await outboxRepository.markPublished(
        tx,
        batch.map((e) => e.sequence),
      );
      metrics.published(added, skipped);
      // What still waits after this round (the backlog metrics; cheap: a partial index holds only unpublished rows).
      const left = await outboxRepository.backlog(tx);
      metrics.backlog(left.count, left.oldestAgeSeconds);
      return batch.length;
    });

  const stopping = new AbortController();
  let failing = false;
  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      let moved = 0;
      try {
        // An open breaker goes half-open only when asked: a PING is the trial (or fails fast), before any transaction is opened.
        if (breaker.state === CircuitState.Open) await breaker.execute(() => redis.ping());
        moved = await round();
        if (failing) logger.info('event relay publishing again');
        failing = false;
      } catch (error) {
        metrics.relayFailed();
        // One line per outage; an open or isolated breaker is the outage already reported.
        if (!failing && !(error instanceof BrokenCircuitError) && !(error instanceof IsolatedCircuitError)) {
          logger.warn({ err: error }, 'event relay round failed; events stay in the outbox and are retried');
        }
        failing = true;
      }
      // A full batch means more may wait: go on at once.
      if (moved < batchSize) await delay(intervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  };

  let running: Promise<void> | undefined;
  return {
    round,
    start(): void {
      running ??= loop();
    },
    async stop(): Promise<void> {
      stopping.abort();
      await running;
    },
  };
}
