/** `npm run check`: the startup validation without serving (deploy gate). Exit 0 when the database is usable. */
import { prepareDatabase } from '../db/prepareDatabase';
import { MIGRATIONS_DIR } from '../paths';
import { runCli } from './runCli';

void runCli(async (config, logger) => {
  await prepareDatabase(config, { migrate: false, migrationsDir: MIGRATIONS_DIR });
  logger.info(
    { environment: config.appEnv, host: config.db.host, database: config.db.name, schema: config.db.schema },
    'database check passed: reachable, credentials valid, schema present, migrations current',
  );
});
