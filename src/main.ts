/**
 * Composition root: parse configuration once, build the logger, start the
 * embedded database in development when none is configured, start the
 * service, and stop it cleanly on SIGTERM/SIGINT.
 */
import { startService, type RunningService } from './app';
import { loadConfig } from './config/config';
import { ConfigError } from './config/ConfigError';
import { installCrashHandlers } from './crashHandlers';
import { EmbeddedPostgresError, startConfiguredEmbeddedPostgres, type RunningPostgres } from './db/embeddedPostgres';
import { StartupError } from './db/prepareDatabase';
import { seedDevelopmentData } from './seed/seedDevelopmentData';
import { explainPortInUse } from './portInUse';
import { setUpProcess } from './processSetup';

/**
 * How long the graceful stop after a crash may take: the readiness drain
 * delay plus a few seconds for in-flight calls, well inside Kubernetes'
 * termination grace period.
 */
const CRASH_DRAIN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const { config, logger, secrets, requestContext } = setUpProcess();

  // Signals are handled from the first moment: one that arrives while starting (embedded database, migrations,
  // seed) stops the service as soon as it is up instead of killing the process half-way; a second one exits at once.
  let stopRequested: string | undefined;
  let onStop = (signal: string): void => {
    if (stopRequested !== undefined) {
      logger.warn({ signal }, 'second signal while starting: exiting now');
      logger.flush(() => process.exit(1));
      return;
    }
    stopRequested = signal;
    logger.info({ signal }, 'stop requested while starting: stopping as soon as the service is up');
  };
  let onReload = (): void => logger.info('SIGHUP while starting: ignored');
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', () => onReload());

  let embedded: RunningPostgres | undefined;
  let running: RunningService | undefined;
  // A bug that escapes every handler: one fatal (scrubbed) line, a bounded graceful stop, exit 70.
  installCrashHandlers({
    logger,
    drain: async () => {
      await running?.stop();
      await embedded?.stop();
    },
    drainTimeoutMs: CRASH_DRAIN_TIMEOUT_MS,
    exit: (code) => process.exit(code),
  });
  try {
    if (config.db.embedded) {
      logger.info({ dataDir: config.db.embeddedDataDir, port: config.db.port }, 'starting embedded PostgreSQL (development; no database configured)');
      embedded = await startConfiguredEmbeddedPostgres(config.db, logger);
    }
    let lastValid = config;
    const service = await startService(config, {
      logger,
      secrets,
      requestContext,
      reloadConfig: () => {
        try {
          lastValid = loadConfig();
          return lastValid;
        } catch (error) {
          // A reload with invalid configuration keeps the one in force.
          logger.error({ problems: error instanceof ConfigError ? error.problems : undefined }, 'reload: configuration invalid, keeping the current one');
          return lastValid;
        }
      },
      onFatal: (error) => {
        logger.fatal({ startupFailure: error.kind }, `refusing to serve: ${error.message}`);
        logger.flush(() => process.exit(1));
      },
    });
    running = service;
    if (config.db.embedded) await seedDevelopmentData(service.db, logger, service.changes);

    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void service
        .stop()
        .then(() => embedded?.stop())
        .then(
          () => logger.flush(() => process.exit(0)),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            logger.flush(() => process.exit(1));
          },
        );
    };
    onStop = stop;
    onReload = () => {
      logger.info('SIGHUP: reloading configuration');
      void service.reload();
    };
    if (stopRequested !== undefined) stop(stopRequested);
  } catch (error) {
    const portInUse = explainPortInUse(error, config);
    if (error instanceof StartupError || error instanceof EmbeddedPostgresError) {
      logger.fatal({ startupFailure: error.kind }, `refusing to start: ${error.message}`);
    } else if (portInUse !== undefined) {
      logger.fatal({ startupFailure: 'port-in-use' }, `refusing to start: ${portInUse}`);
    } else {
      logger.fatal({ err: error }, 'refusing to start: unexpected error');
    }
    await embedded?.stop().catch(() => undefined);
    logger.flush(() => process.exit(1));
  }
}

void main();
