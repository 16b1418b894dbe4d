/** `npm run migrate -- up | down [steps] | status`. */
import { Client } from 'pg';
import { directConnection, pgClientConfig } from '../db/connectionSettings';
import { loadMigrations } from '../db/migrations';
import { Migrator } from '../db/Migrator';
import { MIGRATIONS_DIR } from '../paths';
import { runCli } from './runCli';

const [command = 'status', stepsArg] = process.argv.slice(2);

void runCli(async (config, logger) => {
  if (config.db.poolMode === 'transaction' && config.db.direct === undefined && command !== 'status') {
    // Behind a transaction pooler the session-level advisory lock could be taken and released on different server connections.
    throw new Error('DB_POOL_MODE=transaction: migrate up/down need a direct connection to PostgreSQL; set DB_MIGRATION_URL');
  }
  const client = new Client(pgClientConfig(directConnection(config.db)));
  await client.connect();
  try {
    const migrator = new Migrator(client, config.db.schema, config.appEnv, loadMigrations(MIGRATIONS_DIR));
    switch (command) {
      case 'up': {
        const ran = await migrator.up();
        logger.info({ applied: ran.map((m) => `${m.version}_${m.name}`) }, ran.length === 0 ? 'no pending migrations' : 'migrations applied');
        break;
      }
      case 'down': {
        const steps = Number(stepsArg ?? '1');
        if (!Number.isInteger(steps) || steps < 1) throw new Error('down takes a positive number of steps');
        const reverted = await migrator.down(steps);
        logger.info({ reverted: reverted.map((m) => `${m.version}_${m.name}`) }, 'migrations reverted');
        break;
      }
      case 'status': {
        const status = await migrator.status();
        process.stdout.write(
          `${JSON.stringify({ applied: status.applied.map((m) => `${m.version}_${m.name}`), pending: status.pending.map((m) => `${m.version}_${m.name}`), unknown: status.unknown, modified: status.modified }, null, 2)}\n`,
        );
        break;
      }
      default:
        throw new Error(`unknown migrate command "${command}"; use up | down [steps] | status`);
    }
  } finally {
    await client.end();
  }
});
