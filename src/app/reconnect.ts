import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { StartupError } from '../db/prepareDatabase';
import { isUnreachable } from './connectAtStart';
import type { ConfigReload } from './createConfigReload';
import type { Database } from './database';
import type { ReadinessSink } from '../health/HealthSink';
import { reconnectUntilConnected } from '../resilience/reconnectLoop';

export interface ReconnectDeps {
  readonly database: Database;
  readonly reloads: ConfigReload;
  readonly readiness: ReadinessSink;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly onFatal: ((error: StartupError) => void) | undefined;
}

/**
 * After a degraded start: keeps connecting (to the configuration in force, so
 * a reload meanwhile counts) with capped exponential backoff until the
 * database answers, then turns readiness on. A problem only an operator can
 * fix (wrong password, schema too new) ends the loop through `onFatal`.
 */
export function reconnectInBackground(config: Config, deps: ReconnectDeps): void {
  const { logger } = deps;
  const dbLogger = logger.child({ module: 'db' });
  reconnectUntilConnected(() => deps.database.connect(deps.reloads.current()), {
    retryable: isUnreachable,
    initialDelayMs: 100,
    maxDelayMs: config.resilience.reconnectMaxDelayMs,
    signal: deps.signal,
    onRetry: (attempt, delayMs) => dbLogger.info({ attempt, delayMs }, 'database still unreachable; retrying'),
  }).then(
    () => {
      deps.readiness.set('database-connected', true);
      logger.info('database connected after a degraded start: SERVING');
    },
    (error: unknown) => {
      if (deps.signal.aborted) return;
      if (error instanceof StartupError) deps.onFatal?.(error);
      else logger.error({ err: error }, 'reconnecting to the database failed unexpectedly');
    },
  );
}
