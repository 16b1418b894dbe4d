#!/usr/bin/env node
// npm leaves some platform-specific optional packages (other platforms' builds
// of buf and unrs-resolver) out of package-lock.json when it resolves on this
// machine, or writes them without an integrity; `npm ci` then refuses the lock
// as out of sync, or would install them elsewhere unverified. This adds each
// missing entry and fills each missing integrity from the registry's own
// metadata (`npm view <name>@<version> dist.integrity os cpu libc`), so every
// package in the lock is pinned by its sha512, whatever platform installs it.
// test/lockfile.test.ts fails when an entry without integrity comes back.
//
// Run after `npm install` changes the lock: node scripts/lockfile-platform-entries.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;

/** What the registry says about one version: integrity and the platform fields npm matches on. */
function registryFacts(name, version) {
  const out = execFileSync('npm', ['view', `${name}@${version}`, 'dist.integrity', 'os', 'cpu', 'libc', '--json'], { encoding: 'utf8' });
  const facts = JSON.parse(out);
  if (typeof facts['dist.integrity'] !== 'string') throw new Error(`the registry has no integrity for ${name}@${version}`);
  return facts;
}

let added = 0;
let filled = 0;
const wanted = new Map();
for (const meta of Object.values(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (!packages[key]) wanted.set(key, { name, version, dev: meta.dev === true });
  }
}
for (const [key, { name, version, dev }] of wanted) {
  const facts = registryFacts(name, version);
  const entry = { version, integrity: facts['dist.integrity'], ...(dev ? { dev: true } : {}), optional: true };
  for (const field of ['os', 'cpu', 'libc']) if (facts[field] !== undefined) entry[field] = [facts[field]].flat();
  packages[key] = entry;
  added++;
}
for (const [key, entry] of Object.entries(packages)) {
  if (key === '' || entry.link || entry.integrity) continue;
  const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const { version, ...rest } = entry;
  packages[key] = { version, integrity: registryFacts(name, version)['dist.integrity'], ...rest };
  filled++;
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries, filled ${filled} missing integrity values`);
