import type { Logger } from 'pino';
import { DATABASE_DEPENDENCY_NAME } from '../config/healthDependencies';
import type { HealthMonitor } from '../health/createHealthMonitor';
import type { ReadinessSink } from '../health/HealthSink';
import type { HalfOpenProber } from '../resilience/HalfOpenProber';
import type { Database } from './database';
import type { Metrics } from './ServiceDeps';

/**
 * What the database policy and gateway report, fed to logs, metrics,
 * readiness, the health monitor and the breaker prober. Subscribed once every
 * part exists, so no part needs another before it is built.
 */
export function subscribeDatabaseEvents(
  database: Database,
  parts: { metrics: Metrics; logger: Logger; readiness: ReadinessSink; health: HealthMonitor; prober: HalfOpenProber },
): void {
  const { metrics, readiness, health, prober } = parts;
  const logger = parts.logger.child({ module: 'db' });
  database.policy.onBreakerStateChange((state) => {
    logger.warn({ circuit: state }, `database circuit breaker ${state}`);
    metrics.breakerState(DATABASE_DEPENDENCY_NAME, state);
    readiness.set('database-circuit-closed', state !== 'open' && state !== 'isolated');
    if (state === 'open') {
      health.suspectDatabase();
      prober.start();
    }
  });
  database.policy.onRetry(({ reason, attempt, delayMs }) => {
    metrics.retry(DATABASE_DEPENDENCY_NAME, reason);
    logger.debug({ reason, attempt, delayMs }, 'retrying database work');
  });
  database.policy.onBulkheadRejected((reason) => {
    metrics.bulkheadRejected(DATABASE_DEPENDENCY_NAME, reason);
    logger.warn({ reason }, 'database bulkhead rejected work');
  });
  // A refused or lost connection on the request path: let the prober confirm it now.
  database.gateway.onUnavailable(() => health.suspectDatabase());
}
