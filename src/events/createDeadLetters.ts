import { setTimeout as delay } from 'node:timers/promises';
import { CircuitState, type CircuitBreakerPolicy } from 'cockatiel';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { EventsConfig } from '../config/config';
import type { EventMetricsSink as EventMetrics } from './EventMetricsSink';
import { DEAD_LETTER_SCRIPT, REPLAY_SCRIPT } from './redis/deadLetterScripts';

/** One entry of the dead-letter stream. */
export interface DeadLetter {
  /** ID of the dead-letter entry (what Replay and Discard take). */
  readonly id: string;
  /** The consumer group that failed to process it. */
  readonly group: string;
  readonly deliveries: number;
  readonly lastConsumer: string;
  /** ID of the entry in the source stream. */
  readonly sourceId: string;
  readonly deadLetterTime: Date | undefined;
  /** The original entry's fields (envelope attributes and data). */
  readonly fields: Readonly<Record<string, string>>;
}

export interface DeadLetters {
  /** The dead-letter stream's key: `<stream>.dead-letter`. */
  readonly key: string;
  /** Up to `limit` dead letters with IDs after `after` (exclusive; '' from the start), oldest first. */
  list(limit: number, after: string): Promise<{ letters: DeadLetter[]; more: boolean }>;
  /** Puts the dead letter back on the stream for its group; the new entry's ID, undefined when there is none. */
  replay(id: string): Promise<{ entryId: string; letter: DeadLetter } | undefined>;
  /** Deletes the dead letter; what it was, undefined when there is none. */
  discard(id: string): Promise<DeadLetter | undefined>;
  /** One sweep of every consumer group; returns how many entries it moved. */
  sweepOnce(): Promise<number>;
  startSweeper(): void;
  stopSweeper(): Promise<void>;
}

type RawEntry = [id: string, fields: string[]];

const DEAD_LETTER_FIELD = 'deadletter_';

function toDeadLetter([id, raw]: RawEntry): DeadLetter {
  const all: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) all[raw[i]!] = raw[i + 1]!;
  const fields = Object.fromEntries(Object.entries(all).filter(([name]) => !name.startsWith(DEAD_LETTER_FIELD)));
  const time = all.deadletter_time === undefined ? undefined : new Date(all.deadletter_time);
  return {
    id,
    group: all.deadletter_group ?? '',
    deliveries: Number(all.deadletter_deliveries ?? 0),
    lastConsumer: all.deadletter_consumer ?? '',
    sourceId: all.deadletter_source_id ?? '',
    deadLetterTime: time !== undefined && !Number.isNaN(time.getTime()) ? time : undefined,
    fields,
  };
}

/** XINFO GROUPS answers flat [name, value, ...] lists. */
function groupNames(reply: unknown): string[] {
  return (reply as unknown[][]).map((flat) => {
    const at = flat.indexOf('name');
    return String(flat[at + 1]);
  });
}

/**
 * Dead letters of the event stream. The sweeper looks at every consumer
 * group: an entry pending longer than EVENTS_DEAD_LETTER_AFTER after more
 * than EVENTS_MAX_DELIVERIES deliveries is a poison message; it moves, with
 * its group, delivery count and last consumer, to `<stream>.dead-letter` and
 * is acknowledged in its group (one script: deadLetterScripts.ts), so the
 * group moves on. Each sweep also samples the stream metrics. Operators list,
 * replay and discard dead letters on the admin listener.
 */
export function createDeadLetters(deps: {
  redis: Redis;
  breaker: CircuitBreakerPolicy;
  config: EventsConfig;
  logger: Logger;
  metrics: EventMetrics;
}): DeadLetters {
  const { redis, breaker, config, logger, metrics } = deps;
  const stream = config.stream;
  const key = `${stream}.dead-letter`;
  const guarded = <T>(work: () => Promise<T>): Promise<T> => breaker.execute(work);

  const find = async (id: string): Promise<DeadLetter | undefined> => {
    const entries = (await guarded(() => redis.xrange(key, id, id))) as RawEntry[];
    return entries[0] === undefined ? undefined : toDeadLetter(entries[0]);
  };

  const sweepOnce = async (): Promise<number> => {
    if ((await guarded(() => redis.exists(stream))) === 0) {
      metrics.stream(0, [], Number(await guarded(() => redis.xlen(key))));
      return 0;
    }
    const groups = groupNames(await guarded(() => redis.xinfo('GROUPS', stream)));
    let moved = 0;
    const sampled: { name: string; pending: number; oldestPendingSeconds: number }[] = [];
    for (const group of groups) {
      // Candidates: idle long enough; the script re-checks each one atomically.
      const candidates = (await guarded(() => redis.xpending(stream, group, 'IDLE', config.deadLetterAfterMs, '-', '+', 100))) as [
        string,
        string,
        number,
        number,
      ][];
      for (const [id, , , deliveries] of candidates) {
        if (deliveries <= config.maxDeliveries) continue;
        const result = await guarded(() =>
          redis.eval(
            DEAD_LETTER_SCRIPT,
            2,
            stream,
            key,
            group,
            id,
            String(config.maxDeliveries + 1),
            String(config.deadLetterAfterMs),
            new Date().toISOString(),
          ),
        );
        if (result === 1) {
          moved += 1;
          metrics.deadLettered(group, 1);
          logger.warn({ group, entryId: id, deliveries }, 'event moved to the dead-letter stream');
        }
      }
      const summary = (await guarded(() => redis.xpending(stream, group))) as [number, ...unknown[]];
      const oldest = (await guarded(() => redis.xpending(stream, group, '-', '+', 1))) as [string, string, number, number][];
      sampled.push({ name: group, pending: Number(summary[0]), oldestPendingSeconds: (oldest[0]?.[2] ?? 0) / 1000 });
    }
    const [length, deadLength] = await Promise.all([guarded(() => redis.xlen(stream)), guarded(() => redis.xlen(key))]);
    metrics.stream(length, sampled, deadLength);
    return moved;
  };

  const stopping = new AbortController();
  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      if (breaker.state !== CircuitState.Isolated) {
        // Through the breaker: fails fast while it is open, and is its half-open trial after that.
        await sweepOnce().catch((error: unknown) => logger.debug({ err: error }, 'dead-letter sweep failed; retried at the next interval'));
      }
      await delay(config.sweepIntervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  };
  let running: Promise<void> | undefined;

  return {
    key,
    async list(limit, after) {
      const start = after === '' ? '-' : `(${after}`;
      const entries = (await guarded(() => redis.xrange(key, start, '+', 'COUNT', limit + 1))) as RawEntry[];
      return { letters: entries.slice(0, limit).map(toDeadLetter), more: entries.length > limit };
    },
    async replay(id) {
      const letter = await find(id);
      if (letter === undefined) return undefined;
      const entryId = (await guarded(() => redis.eval(REPLAY_SCRIPT, 2, stream, key, id))) as string | null;
      return entryId === null ? undefined : { entryId, letter };
    },
    async discard(id) {
      const letter = await find(id);
      if (letter === undefined) return undefined;
      return (await guarded(() => redis.xdel(key, id))) === 1 ? letter : undefined;
    },
    sweepOnce,
    startSweeper() {
      running ??= loop();
    },
    async stopSweeper() {
      stopping.abort();
      await running;
    },
  };
}
