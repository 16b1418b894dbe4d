import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

/** Newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure dist/ holds a build of the current sources. CI builds before the
 * tests; a developer who edited src/ and ran `npm test` gets a fresh build
 * rather than a test of yesterday's code.
 */
export function ensureBuilt(): void {
  const main = join(PROJECT_ROOT, 'dist', 'src', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestSource(join(PROJECT_ROOT, 'src'))) return;
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
}

/** A minimal environment for a child process: PATH and the given keys, nothing inherited by accident. */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ENV_FILE: '/nonexistent/.env', ...vars };
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `node <script>` child whose output is collected. */
export interface NodeProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits; rejects if it is still running after `timeoutMs` (and kills it). */
  exited(timeoutMs?: number): Promise<Finished>;
}

/** Starts a compiled script (`dist/...`) under this Node (24). */
export function startNode(script: string, args: readonly string[], env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, script), ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: async (timeoutMs = 30_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${script} ${args.join(' ')} still running after ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a compiled script to completion. */
export function runNode(script: string, args: readonly string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Finished> {
  return startNode(script, args, env).exited(timeoutMs);
}

/** JSON log lines of a process's stdout (other lines are ignored). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// One network helper for the tests and the benchmark.
export { isListening } from '../../bench/net';

/** The environment of a service process for the tests: APP_ENV=test on 127.0.0.1:port over `databaseUrl`, plus `extra`. */
export function serviceProcessEnv(port: number, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return childEnv({
    APP_ENV: 'test',
    LOG_LEVEL: 'info',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(port),
    DATABASE_URL: databaseUrl,
    SHUTDOWN_TIMEOUT: '5',
    ...extra,
  });
}

/** Stops a process that may still run (SIGTERM, bounded wait); for afterAll. */
export async function stopIfRunning(process: NodeProcess | undefined): Promise<void> {
  if (process === undefined || process.child.exitCode !== null) return;
  process.child.kill('SIGTERM');
  await process.exited(20_000).catch(() => undefined);
}
