import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../../config/config';

/**
 * The service's Redis connection (ioredis: reconnects with backoff, pipelines
 * commands on one socket). Redis is not critical: commands fail fast while it
 * is away (no offline queue, one attempt, a command timeout), and the callers
 * (relay, sweeper, dead-letter RPCs) retry on their own schedule behind their
 * circuit breaker. The password file is read when the client is created.
 */
export function createRedisClient(config: RedisConfig, logger: Logger): Redis {
  const password = config.passwordFile === undefined ? undefined : readFileSync(config.passwordFile, 'utf8').trim();
  const client = new Redis(config.url, {
    ...(password !== undefined && { password }),
    ...(config.tls && { tls: config.tlsCaFile === undefined ? {} : { ca: readFileSync(config.tlsCaFile) } }),
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever, backing off to 2 s: the backlog drains when Redis returns, without a restart.
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    // Connects on start(): a service that fails to start leaves no socket behind.
    lazyConnect: true,
  });
  let down = false;
  client.on('error', (error: Error) => {
    // ioredis emits every failed reconnect: log the first of an outage only.
    if (!down) logger.warn({ err: error }, 'redis connection failed; events wait in the outbox until it returns');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  return client;
}
