import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config } from '../config/config';
import { createDatabasePolicy } from '../resilience/createDatabasePolicy';
import { createDatabaseGateway, type DatabaseGateway } from './DatabaseGateway';

/** A gateway over one fixed pool with the configured policies: for commands (db:seed) and tests, not the server. */
export function gatewayOnPool(pool: DatabasePool, config: Config, logger: Logger): DatabaseGateway {
  return createDatabaseGateway({
    pools: { current: () => pool },
    policy: createDatabasePolicy(config.resilience),
    logger,
    statementTimeoutMs: config.db.statementTimeoutMs,
  });
}
