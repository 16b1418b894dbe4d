import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { join } from 'node:path';

/**
 * Processes the fault tests start outside Jest's control (PostgreSQL 15
 * servers, PgBouncer): where they live, who they run as, and how every one of
 * them is stopped even when a test file dies half way (globalTeardown calls
 * {@link killLeftoverServers}).
 */

/** Debian's PostgreSQL 15 binaries (initdb, pg_ctl, pg_basebackup, pg_dump, ...); PG15_BIN overrides. */
export const PG15_BIN = process.env.PG15_BIN ?? '/usr/lib/postgresql/15/bin';

/** The user servers run as: PostgreSQL and PgBouncer refuse to run as root. */
export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

let cachedUser: ServerUser | undefined;

/** As root: the `postgres` system user. Otherwise: ourselves. */
export function serverUser(): ServerUser {
  if (cachedUser !== undefined) return cachedUser;
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return (cachedUser = { uid, gid: process.getgid?.() ?? uid, name: 'self' });
  const id = (flag: string): number => {
    const out = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`running as root needs a 'postgres' user for the test servers (id ${flag} postgres: ${out.stderr.trim()})`);
    return Number(out.stdout.trim());
  };
  return (cachedUser = { uid: id('-u'), gid: id('-g'), name: 'postgres' });
}

const RUN_FOLDER_PREFIX = 'coaching-servers-';

/** Parent of every folder this test run creates for its servers; teardown empties it. Named after the run's Jest process id. */
export function runFolder(): string {
  const dir = runFolderPath();
  mkdirSync(dir, { recursive: true });
  // mkdtemp-style folders are 0700: the server user must be able to traverse them.
  chmodSync(dir, 0o755);
  return dir;
}

function runFolderPath(): string {
  const runId = (process.env.TEST_PG_TEMPLATE ?? '').replace(/^coaching_tpl_/, '') || String(process.pid);
  return join(tmpdir(), `${RUN_FOLDER_PREFIX}${runId}`);
}

/** A fresh folder owned by the server user, inside {@link runFolder}. */
export function serverFolder(prefix: string): string {
  const dir = mkdtempSync(join(runFolder(), `${prefix}-`));
  const user = serverUser();
  chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o755);
  return dir;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a server tool as the server user without blocking the event loop (a
 * service under test may live in this process), killing it after `timeoutMs`.
 */
export function runAsServerUser(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  const user = serverUser();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(user.name === 'postgres' && { uid: user.uid, gid: user.gid }),
      cwd: options.cwd ?? '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like {@link runAsServerUser}, but rejects with the tool's output when it exits non-zero. */
export async function mustRun(command: string, args: readonly string[], options: Parameters<typeof runAsServerUser>[2] = {}): Promise<RunResult> {
  const result = await runAsServerUser(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/** The pid in the first line of a pid file (postmaster.pid, pgbouncer.pid), if the file exists. */
export function pidFromFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to `pid` and waits (bounded, without blocking) until it is gone; SIGKILL after the bound. */
export async function stopPid(pid: number, signal: NodeJS.Signals, timeoutMs = 30_000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const until = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > until) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every pid file below `dir` (a server's data folder holds postmaster.pid; PgBouncer's its own). */
function pidFiles(dir: string, depth = 0): string[] {
  if (depth > 3 || !existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...pidFiles(path, depth + 1));
    else if (entry.name === 'postmaster.pid' || entry.name.endsWith('.pid')) found.push(path);
  }
  return found;
}

/**
 * Stops every server still running from this run's folder (immediate
 * shutdown: nothing of it is kept) and removes the folder. Safe to call
 * more than once; globalTeardown calls it so that a test file that died
 * leaves no postgres or pgbouncer process behind.
 */
export async function killLeftoverServers(dir = runFolderPath()): Promise<number> {
  let stopped = 0;
  for (const file of pidFiles(dir)) {
    const pid = pidFromFile(file);
    if (pid === undefined || !isAlive(pid)) continue;
    // PostgreSQL: SIGQUIT is the immediate shutdown. PgBouncer: SIGTERM is its immediate shutdown.
    await stopPid(pid, file.endsWith('postmaster.pid') ? 'SIGQUIT' : 'SIGTERM', 10_000);
    stopped++;
  }
  rmSync(dir, { recursive: true, force: true });
  return stopped + (dir === runFolderPath() ? await killOrphanedRuns() : 0);
}

/** Folders of earlier runs whose Jest process is gone (killed before its teardown): their servers are stopped too. */
async function killOrphanedRuns(): Promise<number> {
  let stopped = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(RUN_FOLDER_PREFIX)) continue;
    const pid = Number(name.slice(RUN_FOLDER_PREFIX.length));
    if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    stopped += await killLeftoverServers(join(tmpdir(), basename(name)));
  }
  return stopped;
}
