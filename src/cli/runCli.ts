import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { EmbeddedPostgresError, startConfiguredEmbeddedPostgres, type RunningPostgres } from '../db/embeddedPostgres';
import { StartupError } from '../db/prepareDatabase';
import { setUpProcess } from '../processSetup';
import { Client } from 'pg';
import { pgClientConfig } from '../db/connectionSettings';

/** Starts the embedded database for a command when configured and not already running (npm start may run it). */
async function ensureEmbedded(config: Config, logger: Logger): Promise<RunningPostgres | undefined> {
  if (!config.db.embedded) return undefined;
  const probe = new Client(pgClientConfig(config.db));
  try {
    await probe.connect();
    await probe.end();
    return undefined;
  } catch {
    return startConfiguredEmbeddedPostgres(config.db, logger);
  }
}

/**
 * Shared frame of the operator commands: configuration, logger, embedded
 * database in development, and exit codes (0 ok, 1 refused, 2 bad configuration).
 */
export async function runCli(command: (config: Config, logger: Logger) => Promise<void>): Promise<void> {
  const { config, logger } = setUpProcess();
  let embedded: RunningPostgres | undefined;
  let code = 0;
  try {
    embedded = await ensureEmbedded(config, logger);
    await command(config, logger);
  } catch (error) {
    code = 1;
    if (error instanceof StartupError || error instanceof EmbeddedPostgresError) logger.fatal({ startupFailure: error.kind }, error.message);
    else logger.fatal({ err: error }, 'command failed');
  } finally {
    await embedded?.stop().catch(() => undefined);
  }
  logger.flush(() => process.exit(code));
}
