import type { Logger } from 'pino';
import { loadConfig, readPassword, type Config } from './config/config';
import { ConfigError } from './config/ConfigError';
import { createLogger } from './log/createLogger';
import { RequestContext } from './log/RequestContext';
import { SecretRegistry } from './log/SecretRegistry';

/** What every entry point (server, operator commands) starts from. */
export interface ProcessSetup {
  readonly config: Config;
  readonly logger: Logger;
  readonly secrets: SecretRegistry;
  readonly requestContext: RequestContext;
}

/**
 * Loads the configuration once, or prints every problem and exits with code 2
 * before anything runs; then builds the logger, which already knows the
 * database password so it can scrub it from any line.
 */
export function setUpProcess(): ProcessSetup {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`coaching-service: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const secrets = new SecretRegistry();
  secrets.add(readPassword(config.db.password));
  if (config.db.direct !== undefined) secrets.add(readPassword(config.db.direct.password));
  const requestContext = new RequestContext();
  const logger = createLogger({ level: config.logLevel, secrets, requestContext });
  return { config, logger, secrets, requestContext };
}
