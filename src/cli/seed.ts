/** `npm run db:seed`: idempotent development data. */
import { createDatabasePool } from '../db/createDatabasePool';
import { gatewayOnPool } from '../db/gatewayOnPool';
import { outboxChangeLog } from '../app/events';
import { seedDevelopmentData } from '../seed/seedDevelopmentData';
import { runCli } from './runCli';

void runCli(async (config, logger) => {
  if (config.appEnv === 'staging' || config.appEnv === 'production') {
    throw new Error(`db:seed writes demo data and refuses APP_ENV=${config.appEnv}`);
  }
  const pool = await createDatabasePool(config.db);
  try {
    await seedDevelopmentData(gatewayOnPool(pool, config, logger), logger, outboxChangeLog());
  } finally {
    await pool.end();
  }
});
