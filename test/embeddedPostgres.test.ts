/**
 * The embedded PostgreSQL launcher from folders its server user may not
 * enter. As root, PostgreSQL runs as the `postgres` user: binaries inside a
 * checkout under a 0700 folder are run from a root-owned cache copy, and a data
 * folder it cannot reach is refused with a message saying what to do, never an
 * unhandled spawn 'error'. Also checks what the allowed install script of the
 * binaries package (its library symlinks) provides.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresOsUser } from '../src/db/embedded/osUser';
import { binariesRunnableBy, packagedBinaries } from '../src/db/embedded/postgresBinaries';
import { createPostgresCluster, EmbeddedPostgresError } from '../src/db/embedded/PostgresCluster';
import { freePort } from './support/postgresServer';

const asRoot = process.getuid?.() === 0;
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
function folder(mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'coaching-embedded-'));
  chmodSync(dir, mode);
  scratch.push(dir);
  return dir;
}

it('the binaries package ships its library symlinks (its postinstall) and its postgres runs', async () => {
  const packaged = await packagedBinaries();
  const links = JSON.parse(readFileSync(join(packaged.nativeDir, 'pg-symlinks.json'), 'utf8')) as { source: string; target: string }[];
  expect(links.length).toBeGreaterThan(0);
  for (const { source, target } of links) {
    const link = join(packaged.nativeDir, '..', target);
    expect({ target, isLink: lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() }).toEqual({ target, isLink: true });
    expect(join(packaged.nativeDir, '..', source)).toContain(readlinkSync(link));
  }
  const version = spawnSync(packaged.postgres, ['--version'], { encoding: 'utf8' });
  expect({ status: version.status, stdout: version.stdout }).toEqual({ status: 0, stdout: expect.stringMatching(/^postgres \(PostgreSQL\) \d+/) });
});

it('runs as root only through the postgres user, and as anyone else as that user', () => {
  const user = postgresOsUser(() => undefined);
  if (asRoot) expect(user).toMatchObject({ name: 'postgres', uid: expect.any(Number) });
  else expect(user).toBeUndefined();
  if (user !== undefined) expect(user.uid).not.toBe(0);
});

it('copies binaries the server user cannot reach into the cache once, and runs them from there', async () => {
  const packaged = await packagedBinaries();
  const user = postgresOsUser(() => undefined);
  // A checkout inside a folder only root may enter (mktemp -d, /root): the same package, copied there.
  const hidden = folder(0o700);
  const nativeDir = join(hidden, 'pkg', 'native');
  cpSync(packaged.nativeDir, nativeDir, { recursive: true, verbatimSymlinks: true, filter: (source) => !source.endsWith('.a') });
  const inHidden = { nativeDir, initdb: join(nativeDir, 'bin', 'initdb'), postgres: join(nativeDir, 'bin', 'postgres'), id: `test-copy@${process.pid}` };
  const cacheRoot = join(folder(0o755), 'cache');

  const runnable = binariesRunnableBy(user, inHidden, cacheRoot);
  if (!asRoot) {
    // Its own user enters its own folders: nothing to copy.
    expect(runnable).toEqual(inHidden);
    return;
  }
  expect(runnable.postgres.startsWith(cacheRoot)).toBe(true);
  expect(statSync(cacheRoot).mode & 0o777).toBe(0o755);
  const version = spawnSync(runnable.postgres, ['--version'], { encoding: 'utf8', uid: user!.uid, gid: user!.gid });
  expect({ status: version.status, stdout: version.stdout }).toEqual({ status: 0, stdout: expect.stringMatching(/^postgres \(PostgreSQL\)/) });
  // The copy keeps the library symlinks and leaves out the static libraries.
  expect(lstatSync(join(runnable.postgres, '..', '..', 'lib', 'libicuuc.so.60')).isSymbolicLink()).toBe(true);
  expect(existsSync(join(runnable.postgres, '..', '..', 'lib', 'libpq.a'))).toBe(false);
  // A second start reuses the copy.
  const copiedAt = statSync(runnable.postgres).mtimeMs;
  expect(binariesRunnableBy(user, inHidden, cacheRoot)).toEqual(runnable);
  expect(statSync(runnable.postgres).mtimeMs).toBe(copiedAt);
});

it('refuses a data folder the server user cannot reach, naming the folder in the way', async () => {
  const hidden = folder(0o700);
  const attempt = createPostgresCluster({ dataDir: join(hidden, 'data'), port: await freePort(), superuser: 'postgres', password: 'pw' });
  if (!asRoot) {
    await expect(attempt).resolves.toBeDefined();
    return;
  }
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbeddedPostgresError);
  expect(error).toMatchObject({ kind: 'DATA_DIR_UNREACHABLE', message: expect.stringContaining(`because it cannot enter ${hidden}`) });
});

it('initialises, starts and stops a cluster in a reachable folder; a second start on the same folder reuses it', async () => {
  const parent = folder(0o755);
  mkdirSync(join(parent, 'nested'));
  const options = { dataDir: join(parent, 'nested', 'data'), port: await freePort(), superuser: 'postgres', password: 'pw' };
  const cluster = await createPostgresCluster(options);
  expect(await cluster.initialise()).toBe(true);
  await cluster.start();
  expect(existsSync(join(cluster.dataDir, 'postmaster.pid'))).toBe(true);
  await cluster.stop();
  expect(existsSync(join(cluster.dataDir, 'postmaster.pid'))).toBe(false);
  // The parents of a new data folder stay enterable (the server user passes through them); the folder itself is private.
  expect(statSync(join(parent, 'nested')).mode & 0o755).toBe(0o755);
  expect(statSync(cluster.dataDir).mode & 0o777).toBe(0o700);

  const again = await createPostgresCluster(options);
  expect(await again.initialise()).toBe(false);
  await again.start();
  await again.stop();
});
