import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OsUser } from './osUser';

/** The programs get a fixed environment: C messages (parsed for errors), nothing inherited by accident. */
const SERVER_ENV = { LC_ALL: 'C' };
/** Lines of the server's output kept to explain a failed start. */
const TAIL_LINES = 40;

function runAs(user: OsUser | undefined): { uid?: number; gid?: number } {
  return user === undefined ? {} : { uid: user.uid, gid: user.gid };
}

/** Runs a program (initdb) to completion as `user`, failing with its output. */
export function runProgram(program: string, args: readonly string[], user: OsUser | undefined, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'], ...runAs(user) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${program} exited with code ${code}:\n${output.trim()}`))));
  });
}

/** A running postmaster: its process, how it ended (once it has), and its latest output lines. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  ended(): { code: number | null; error?: Error } | undefined;
  readonly tail: readonly string[];
}

/**
 * Spawns the postmaster as `user`, in its own process group (a Ctrl-C meant
 * for the service must not stop the database under it while it drains; the
 * owner stops it, in order). A spawn failure ends it like an exit, never as
 * an unhandled 'error' event.
 */
export function spawnServer(postgres: string, args: readonly string[], user: OsUser | undefined, cwd: string, onLine: (line: string) => void): ServerProcess {
  const child = spawn(postgres, args, { cwd, env: SERVER_ENV, stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...runAs(user) });
  const tail: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      onLine(line);
    }
  });
  let ended: { code: number | null; error?: Error } | undefined;
  const exited = new Promise<void>((done) => {
    child.once('error', (error) => {
      ended = { code: null, error };
      done();
    });
    child.once('exit', (code) => {
      ended = { code };
      done();
    });
  });
  return { child, exited, ended: () => ended, tail };
}

/** postmaster.pid's status line (8th) reads "ready" once the server accepts connections. */
export function isReady(dataDir: string, pid: number | undefined): boolean {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}
