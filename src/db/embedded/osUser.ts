import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';

/** The operating-system identity PostgreSQL's processes run as. */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

function ids(name: string): OsUser | undefined {
  const id = (flag: string): number | undefined => {
    const run = spawnSync('id', [flag, name], { encoding: 'utf8' });
    return run.status === 0 ? Number(run.stdout.trim()) : undefined;
  };
  const uid = id('-u');
  const gid = id('-g');
  return uid === undefined || gid === undefined ? undefined : { name, uid, gid };
}

/**
 * Who runs PostgreSQL: the current user, or, when that is root (PostgreSQL
 * refuses to run as root), the `postgres` system user, created if missing.
 * `undefined` means "this process's own user": no uid switch is needed.
 */
export function postgresOsUser(onCreate: (message: string) => void): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = ids('postgres');
  if (existing !== undefined) return existing;
  onCreate("creating the system user 'postgres' to run embedded PostgreSQL (PostgreSQL refuses to run as root)");
  const group = spawnSync('getent', ['group', 'postgres']).status === 0 ? ['--gid', 'postgres'] : ['--user-group'];
  try {
    execFileSync('useradd', ['--system', ...group, '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`could not create the system user 'postgres' with useradd: ${(error as Error).message}`, { cause: error });
  }
  const created = ids('postgres');
  if (created === undefined) throw new Error("the system user 'postgres' was created but `id postgres` does not find it");
  return created;
}

/** True when `user` may access `path` in `mode` ('x' to enter or execute, 'w' to write): every parent folder included. */
export function canAccess(user: OsUser | undefined, path: string, mode: 'x' | 'w' | 'r'): boolean {
  const run = spawnSync('test', [`-${mode}`, path], user === undefined ? {} : { uid: user.uid, gid: user.gid });
  return run.status === 0;
}

/** The outermost folder on the way to `path` that `user` cannot enter, for an error message that names the real obstacle. */
export function firstBlockedFolder(user: OsUser | undefined, path: string): string | undefined {
  const chain: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  return chain.find((dir) => !canAccess(user, dir, 'x'));
}
