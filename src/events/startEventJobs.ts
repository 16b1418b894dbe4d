import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll } from 'cockatiel';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { EventsConfig } from '../config/config';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import { createRedisCheck } from '../health/checks/redisCheck';
import type { DependencyCheck } from '../health/types';
import type { EventMetricsSink as EventMetrics } from './EventMetricsSink';
import { createDeadLetters, type DeadLetters } from './createDeadLetters';
import { createEventRelay } from './createEventRelay';
import { createRetentionJob } from './createRetentionJob';
import { createRedisClient } from './redis/createRedisClient';

export interface EventJobsDeps {
  readonly config: EventsConfig;
  readonly db: DatabaseGateway;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
  /** Probe timing of the `redis` health check. */
  readonly probe: { readonly intervalMs: number; readonly timeoutMs: number };
}

/** The events module's background work and what it gives the rest of the service. */
export interface EventJobs {
  /** The `redis` dependency for the health module (none without REDIS_URL). */
  readonly healthChecks: readonly DependencyCheck[];
  /** Dead-letter operations for the admin listener (undefined without REDIS_URL). */
  readonly deadLetters: DeadLetters | undefined;
  /** The Redis connection, when configured (tests, operators). */
  readonly redis: Redis | undefined;
  /** One run of the retention job now (tests, operators); undefined counts: another replica holds the lease. */
  runRetention(): Promise<Record<'outbox' | 'idempotency_keys', number | undefined>>;
  /** One dead-letter sweep now; 0 without Redis. */
  sweepDeadLetters(): Promise<number>;
  /** Starts the relay, the dead-letter sweeper, the backlog sampler and the retention job. */
  start(): void;
  /** Stops them all (drain) and closes the Redis connection. */
  stop(): Promise<void>;
}

const CIRCUIT_STATE_NAMES: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * The lifecycle of domain events (README, "Events"): with REDIS_URL, a Redis
 * connection behind its own circuit breaker, the relay and the dead-letter
 * sweeper; always, the retention job and the backlog metrics. Nothing here is
 * on a request path: with Redis down, writes still append to the outbox.
 */
export function createEventJobs(deps: EventJobsDeps): EventJobs {
  const { config, db, metrics } = deps;
  const logger = deps.logger.child({ module: 'events' });
  const redisConfig = config.redis;
  const redis = redisConfig === undefined ? undefined : createRedisClient(redisConfig, logger);
  const breaker = circuitBreaker(handleAll, { halfOpenAfter: 2000, breaker: new ConsecutiveBreaker(3) });
  breaker.onStateChange((state) => logger.info({ circuit: state }, 'redis circuit breaker changed state'));
  const relay =
    redis === undefined
      ? undefined
      : createEventRelay({ db, redis, breaker, stream: config.stream, batchSize: config.relayBatchSize, intervalMs: config.relayIntervalMs, logger, metrics });
  const deadLetters = redis === undefined ? undefined : createDeadLetters({ redis, breaker, config, logger, metrics });
  const retention = createRetentionJob({
    db,
    eventsRetentionMs: config.retentionMs,
    idempotencyRetentionMs: config.idempotencyRetentionMs,
    relayConfigured: redis !== undefined,
    batchSize: config.retentionBatchSize,
    intervalMs: config.retentionIntervalMs,
    logger,
    metrics,
  });
  metrics.relayEnabled(redis !== undefined);

  const healthChecks: DependencyCheck[] = [];
  if (redis !== undefined && redisConfig !== undefined) {
    const url = new URL(redisConfig.url);
    healthChecks.push(
      createRedisCheck(
        {
          ping: () => redis.ping(),
          endpoint: { hostname: url.hostname, port: url.port === '' ? 6379 : Number(url.port), tls: redisConfig.tls },
          circuitState: () => CIRCUIT_STATE_NAMES[breaker.state],
        },
        deps.probe,
      ),
    );
  }

  return {
    healthChecks,
    deadLetters,
    redis,
    runRetention: () => retention.runOnce(),
    sweepDeadLetters: () => deadLetters?.sweepOnce() ?? Promise.resolve(0),
    start() {
      // Failures are reported by the client's error events and retried by its reconnect strategy.
      redis?.connect().catch(() => undefined);
      relay?.start();
      deadLetters?.startSweeper();
      retention.start();
    },
    async stop() {
      await Promise.all([relay?.stop(), deadLetters?.stopSweeper(), retention.stop()]);
      redis?.disconnect();
    },
  };
}
