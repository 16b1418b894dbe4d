import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { translateDriverError } from '../db/driverErrors';
import { explainConnectFailure, StartupError } from '../db/prepareDatabase';
import { createConfigReload, type ConfigReload } from './createConfigReload';
import type { Database } from './database';
import type { Metrics, ServiceDeps } from './ServiceDeps';

/** The configuration in force and its serialised reload (SIGHUP, `RunningService.reload`, the password file). */
export function createReload(config: Config, deps: ServiceDeps, database: Database, metrics: Metrics): ConfigReload {
  return createConfigReload({
    initial: config,
    ...(deps.reloadConfig !== undefined && { loadNext: deps.reloadConfig }),
    pools: database.pools,
    check: (candidate) => database.check(candidate),
    describeError: (candidate, error) =>
      error instanceof StartupError ? error.message : (translateDriverError(error)?.message ?? explainConnectFailure(candidate, error).message),
    secrets: deps.secrets,
    logger: deps.logger,
    applied: metrics.configInForce,
    counted: metrics.configReloaded,
    keyChanged: metrics.configKeyChanged,
  });
}

/**
 * Reloads when the database password file changes (DB_PASSWORD_FILE with
 * DB_WATCH_PASSWORD_FILE). Polling stat survives the symlink swaps Kubernetes
 * uses to update mounted secrets. Returns how to stop watching.
 */
export function watchPasswordFile(config: Config, reloads: ConfigReload, logger: Logger): () => void {
  const path = config.db.password.kind === 'file' && config.resilience.watchPasswordFile ? config.db.password.path : undefined;
  if (path === undefined) return () => undefined;
  watchFile(path, { interval: 500 }, (current, previous) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) {
      logger.info('database password file changed: reloading the pool');
      void reloads.reload();
    }
  });
  return () => unwatchFile(path);
}
