import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { isListening } from './processes';
import { freePort } from './postgresServer';
import { isAlive, mustRun, pidFromFile, serverFolder, stopPid } from './serverProcesses';
import { waitFor } from './waitFor';

/** The PgBouncer binary: PGBOUNCER, else `pgbouncer` on PATH, else Debian's /usr/sbin/pgbouncer. */
export function pgbouncerBinary(): string {
  const candidates = [process.env.PGBOUNCER, 'pgbouncer', '/usr/sbin/pgbouncer'].filter((c): c is string => c !== undefined && c !== '');
  for (const candidate of candidates) {
    if (spawnSync(candidate, ['--version'], { encoding: 'utf8' }).status === 0) return candidate;
  }
  throw new Error('PgBouncer is not installed: apt-get update && apt-get install -y pgbouncer (or set PGBOUNCER to its path)');
}

/** A PgBouncer the test started, in front of one PostgreSQL. */
export interface PgBouncer {
  readonly port: number;
  readonly home: string;
  /** A client URL through the pooler (the user's password is in the auth file). */
  url(database: string): string;
  /** Runs one command on the admin console (SHOW POOLS, RECONNECT, PAUSE, ...) as the admin user. */
  admin<T extends object = Record<string, unknown>>(command: string): Promise<T[]>;
  log(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The PostgreSQL server it pools. */
  readonly server: { host: string; port: number };
  /** The one client (and server) login: listed in the auth file with its password. */
  readonly user: string;
  readonly password: string;
  readonly poolMode?: 'session' | 'transaction' | 'statement';
  /** Server connections per (database, user) pair. */
  readonly poolSize?: number;
  readonly maxClientConnections?: number;
  /** Extra `[pgbouncer]` settings. */
  readonly settings?: Record<string, string>;
}

const quote = (value: string): string => `"${value.replace(/"/g, '""')}"`;

/**
 * Starts Debian's PgBouncer (1.18 here) on a free port, as the server user
 * (it refuses to run as root), with its own configuration in a temp folder:
 * SCRAM authentication from an auth file, transaction pooling by default, and
 * none of the startup parameters a client may send ignored, as shipped.
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  const port = await freePort();
  const home = serverFolder('pgbouncer');
  const ini = join(home, 'pgbouncer.ini');
  const pidFile = join(home, 'pgbouncer.pid');
  const logFile = join(home, 'pgbouncer.log');
  writeFileSync(join(home, 'userlist.txt'), `${quote(options.user)} ${quote(options.password)}\n`, { mode: 0o644 });
  const settings: Record<string, string> = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    unix_socket_dir: '',
    auth_type: 'scram-sha-256',
    auth_file: join(home, 'userlist.txt'),
    admin_users: options.user,
    pool_mode: options.poolMode ?? 'transaction',
    default_pool_size: String(options.poolSize ?? 20),
    max_client_conn: String(options.maxClientConnections ?? 200),
    pidfile: pidFile,
    logfile: logFile,
    // Fail a query that waited this long for a server connection instead of holding it forever.
    query_wait_timeout: '30',
    server_login_retry: '1',
    ...options.settings,
  };
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${options.server.host} port=${options.server.port}`,
      '',
      '[pgbouncer]',
      ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  // -d: daemon; the pid file is how this run (and globalTeardown) finds it again.
  await mustRun(binary, ['-d', ini], { timeoutMs: 30_000 });
  const pid = (): number | undefined => {
    const p = pidFromFile(pidFile);
    return p !== undefined && isAlive(p) ? p : undefined;
  };
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no log)');
  try {
    await waitFor('PgBouncer to listen', async () => pid() !== undefined && (await isListening(port)), { timeoutMs: 15_000 });
  } catch (error) {
    throw new Error(`PgBouncer did not start:\n${log().slice(-2000)}`, { cause: error });
  }
  const url = (database: string): string =>
    `postgresql://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@127.0.0.1:${port}/${database}`;
  return {
    port,
    home,
    url,
    log,
    async admin<T extends object>(command: string): Promise<T[]> {
      const client = new Client({ connectionString: url('pgbouncer') });
      client.on('error', () => undefined);
      await client.connect();
      try {
        // The admin console speaks the simple protocol only: a query without parameters uses it.
        return (await client.query<T>(command)).rows;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async stop() {
      const p = pid();
      // SIGTERM: immediate shutdown (SIGINT would wait for clients to leave).
      if (p !== undefined) await stopPid(p, 'SIGTERM', 15_000);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
