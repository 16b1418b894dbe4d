import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { StartupError } from '../db/prepareDatabase';
import type { ConfigReload } from './createConfigReload';
import type { Database } from './database';

export const isUnreachable = (error: unknown): boolean => error instanceof StartupError && error.kind === 'unreachable';

/**
 * The first connection. Problems an operator must fix fail the start; an
 * unreachable database only delays readiness (false: serve NOT_SERVING and
 * reconnect in the background), unless DB_REQUIRE_ON_STARTUP.
 */
export async function connectAtStart(config: Config, database: Database, reloads: ConfigReload, logger: Logger): Promise<boolean> {
  try {
    await database.connect(reloads.current());
    return true;
  } catch (error) {
    if (!isUnreachable(error) || config.resilience.requireOnStartup) throw error;
    logger.warn({ reason: (error as Error).message }, 'database unreachable at start: serving NOT_SERVING and reconnecting in the background');
    return false;
  }
}
