#!/usr/bin/env node
// The registry mirror this project is built against serves only Linux x64
// builds of platform-specific optional packages (buf, unrs-resolver); npm then
// leaves their entries out of package-lock.json and `npm ci` refuses the lock
// as out of sync. This adds the missing entries back, marked optional with the
// platform they are for, so npm ci skips them here and installs them elsewhere.
// Run after `npm install` changes the lock: node scripts/lockfile-platform-entries.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
const CPU = { armv7: 'arm' };
let added = 0;
for (const meta of Object.values(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const parts = name
      .split('/')
      .pop()
      .replace(/^(buf|resolver-binding)-/, '')
      .split('-');
    const entry = { version, dev: true, optional: true, os: [parts[0]], cpu: [CPU[parts[1]] ?? parts[1]] };
    if (/^gnu/.test(parts[2] ?? '')) entry.libc = ['glibc'];
    if (/^musl/.test(parts[2] ?? '')) entry.libc = ['musl'];
    packages[key] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
