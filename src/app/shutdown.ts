import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { HEALTH_SERVICE_NAME } from '../grpc/healthApiService';
import type { ListenerCredentials } from '../grpc/tls/serverCredentials';
import type { ConfigReload } from './createConfigReload';
import type { Database } from './database';
import type { Health } from './health';
import type { EventJobs } from '../events/startEventJobs';
import type { Listeners } from './listeners';
import type { PublicServer } from './publicServer';
import type { ServiceTracing } from './tracing';

export interface ShutdownParts {
  readonly server: PublicServer;
  readonly listeners: Listeners;
  readonly tls: ListenerCredentials;
  readonly health: Health;
  readonly events: EventJobs;
  readonly reloads: ConfigReload;
  readonly database: Database;
  readonly tracing: ServiceTracing;
  /** Aborted once the drain delay is over: ends the reconnect loop and the breaker prober. */
  readonly background: AbortController;
  /** Stops the file watches of the running service (the password file). */
  readonly unwatch: () => void;
  readonly logger: Logger;
  /** Stopped after the pool, in order (the pager lease, the database endpoints). */
  readonly after?: readonly ({ stop(): Promise<void> } | undefined)[];
}

/**
 * The graceful stop, in order: readiness NOT_SERVING, the drain delay (load
 * balancers notice), background work ends, listeners stop accepting and let
 * in-flight calls finish (bounded), probes and /metrics stop, a reload under
 * way settles, the event jobs (relay, sweeper, retention) stop, the pool
 * closes, queued spans are flushed last.
 */
export function createShutdown(config: Config, parts: ShutdownParts): () => Promise<void> {
  const { server, listeners, logger } = parts;
  return async () => {
    server.readiness.set('not-draining', false);
    server.grpc.status.set(HEALTH_SERVICE_NAME, 'NOT_SERVING');
    logger.info({ drainDelayMs: config.shutdownDrainDelayMs }, 'draining: readiness NOT_SERVING');
    await delay(config.shutdownDrainDelayMs);
    parts.background.abort();
    parts.unwatch();
    const [how] = await Promise.all([server.grpc.shutdown(config.shutdownTimeoutMs), listeners.admin?.stop(config.shutdownTimeoutMs)]);
    parts.tls.close();
    parts.health.stop();
    await parts.events.stop();
    await listeners.metricsServer?.close();
    await parts.reloads.settled();
    await parts.database.pools.close();
    // Flushes the spans still queued (bounded by the exporter's timeout).
    await parts.tracing.shutdown();
    for (const part of parts.after ?? []) await part?.stop();
    logger.info({ shutdown: how }, 'coaching-service stopped');
  };
}
