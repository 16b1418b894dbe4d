/**
 * Domain events: the optional Redis Streams delivery (relay, dead letters)
 * and the retention jobs. Read from the variables config.ts collected;
 * nothing here touches the process environment.
 */
import { existsSync } from 'node:fs';
import type { createReader } from './reader';

type Reader = ReturnType<typeof createReader>;

/** The Redis server the relay publishes to. */
export interface RedisConfig {
  /** redis:// or rediss:// (TLS). May carry a password: a secret, never logged. */
  readonly url: string;
  /** File holding the password (a mounted Secret); re-read at each reconnect. Wins over a password in the URL. */
  readonly passwordFile: string | undefined;
  /** TLS: from rediss:// or REDIS_TLS=true. */
  readonly tls: boolean;
  /** CA bundle the server certificate must chain to (PEM); the system's when undefined. */
  readonly tlsCaFile: string | undefined;
  readonly connectTimeoutMs: number;
  /** Every command fails after this long (the relay and sweeper retry on their next round). */
  readonly commandTimeoutMs: number;
}

export interface EventsConfig {
  /** Undefined: no Redis; events stay in the outbox (ListEvents) until retention. */
  readonly redis: RedisConfig | undefined;
  /** The stream events are published to; its dead letters go to `<stream>.dead-letter`. */
  readonly stream: string;
  /** Pause between relay rounds when the outbox is drained. */
  readonly relayIntervalMs: number;
  /** Events per relay round (one transaction, one pipeline). */
  readonly relayBatchSize: number;
  /** A stream entry delivered more than this many times... */
  readonly maxDeliveries: number;
  /** ...and pending longer than this goes to the dead-letter stream. */
  readonly deadLetterAfterMs: number;
  readonly sweepIntervalMs: number;
  /** Outbox events are deleted this long after publication (without Redis: after they were written). */
  readonly retentionMs: number;
  /** Idempotency keys are deleted this long after their request: a retry after that is a new request. */
  readonly idempotencyRetentionMs: number;
  readonly retentionIntervalMs: number;
  /** Rows per retention transaction (short transactions, short locks). */
  readonly retentionBatchSize: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A bound in the largest unit that states it exactly (60000 → "1m"), written the way the setting is. */
function showDuration(ms: number): string {
  const [unit, size] = Object.entries(UNITS).reduce((best, entry) => (ms % entry[1] === 0 && entry[1] > best[1] ? entry : best));
  return `${ms / size}${unit}`;
}

/** A duration such as "500ms", "30s", "15m", "24h" or "7d" (a bare number is seconds), within [minMs, maxMs]. */
function duration(r: Reader, key: string, fallbackMs: number, minMs: number, maxMs: number): number {
  const raw = r.optionalString(key);
  if (raw === undefined) return fallbackMs;
  const match = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(raw);
  const ms = match === null ? undefined : Number(match[1]) * UNITS[match[2] ?? 's']!;
  if (ms === undefined || ms < minMs || ms > maxMs) {
    r.problem(key, `must be a duration such as 500ms, 30s, 15m, 24h or 7d, from ${showDuration(minMs)} to ${showDuration(maxMs)}, got ${JSON.stringify(raw)}`);
    return fallbackMs;
  }
  return ms;
}

const STREAM_KEY = /^[A-Za-z0-9:._-]{1,200}$/;
const DAY = 86_400_000;

function readRedis(r: Reader): RedisConfig | undefined {
  const url = r.optionalString('REDIS_URL');
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // The URL may hold a password: never echo it.
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    r.problem('REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  const passwordFile = r.optionalString('REDIS_PASSWORD_FILE');
  if (passwordFile !== undefined && !existsSync(passwordFile)) r.problem('REDIS_PASSWORD_FILE', `names a file that does not exist: ${passwordFile}`);
  const tlsCaFile = r.optionalString('REDIS_TLS_CA_FILE');
  if (tlsCaFile !== undefined && !existsSync(tlsCaFile)) r.problem('REDIS_TLS_CA_FILE', `names a file that does not exist: ${tlsCaFile}`);
  return {
    url,
    passwordFile,
    tls: r.bool('REDIS_TLS', parsed?.protocol === 'rediss:'),
    tlsCaFile,
    connectTimeoutMs: duration(r, 'REDIS_CONNECT_TIMEOUT', 2000, 100, 60_000),
    commandTimeoutMs: duration(r, 'REDIS_COMMAND_TIMEOUT', 1000, 50, 60_000),
  };
}

export function readEventsConfig(r: Reader): EventsConfig {
  const stream = r.string('EVENTS_STREAM', 'coaching.events');
  if (!STREAM_KEY.test(stream)) r.problem('EVENTS_STREAM', 'must be 1 to 200 letters, digits and : . _ -');
  return {
    redis: readRedis(r),
    stream,
    relayIntervalMs: duration(r, 'EVENTS_RELAY_INTERVAL', 200, 10, 60_000),
    relayBatchSize: r.int('EVENTS_RELAY_BATCH_SIZE', 200, 1, 10_000),
    maxDeliveries: r.int('EVENTS_MAX_DELIVERIES', 5, 1, 1000),
    deadLetterAfterMs: duration(r, 'EVENTS_DEAD_LETTER_AFTER', 60_000, 10, 7 * DAY),
    sweepIntervalMs: duration(r, 'EVENTS_SWEEP_INTERVAL', 10_000, 10, DAY),
    retentionMs: duration(r, 'EVENTS_RETENTION', 7 * DAY, 1000, 3650 * DAY),
    idempotencyRetentionMs: duration(r, 'IDEMPOTENCY_RETENTION', 7 * DAY, 1000, 3650 * DAY),
    retentionIntervalMs: duration(r, 'RETENTION_INTERVAL', 60_000, 10, DAY),
    retentionBatchSize: r.int('RETENTION_BATCH_SIZE', 500, 1, 100_000),
  };
}
