#!/usr/bin/env node
// Makes sure the programs the tests need beyond npm (scripts/system-tools.json)
// are there: `npm test` runs it first (pretest), .ci/run before anything else.
// Missing Debian packages are installed with apt-get when this runs as root on
// a machine that has apt-get; it says what it installs, and it never touches
// apt (not even `apt-get update`) when nothing is missing. Whatever is still
// missing is named in one line; the tests that need it are then skipped, and
// the run ends with one line per tool saying so (test/support/systemTools.ts).
// With CI=true (or --check) each missing tool is listed and this exits 1.
//
//   node scripts/provision.mjs           check, install what is missing
//   node scripts/provision.mjs --check   check only (exit 1 if anything is missing)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { tools } = JSON.parse(readFileSync(new URL('./system-tools.json', import.meta.url), 'utf8'));
const checkOnly = process.argv.includes('--check');
const ci = process.env.CI === 'true';
const say = (line) => process.stdout.write(`provision: ${line}\n`);

function works(tool) {
  const [program, ...args] = tool.check;
  const command = (tool.env && process.env[tool.env]) || program;
  const run = spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
  return run.status === 0;
}

const hasAptGet = () => spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

function apt(args) {
  // Waits for a dpkg lock held by a concurrent install instead of failing at once.
  const run = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return run.status === 0;
}

function install(packages) {
  const args = ['install', '-y', '-qq', '--no-install-recommends', ...packages];
  // Try with the package lists there are; on a fresh machine they are empty or stale, so update once and retry.
  if (apt(args)) return true;
  say('apt-get install failed with the current package lists: running apt-get update, then retrying');
  return apt(['update', '-qq']) && apt(args);
}

let missing = tools.filter((tool) => !works(tool));
const installable = [...new Set(missing.flatMap((tool) => tool.debian ?? []))];
if (!checkOnly && installable.length > 0) {
  const names = missing.filter((t) => t.debian).map((t) => t.name);
  if (process.getuid?.() === 0 && hasAptGet()) {
    say(`installing Debian packages ${installable.join(' ')} (for ${names.join(', ')})`);
    if (!install(installable)) say(`apt-get could not install ${installable.join(' ')}`);
    missing = missing.filter((tool) => !works(tool));
  } else {
    say(`cannot install ${installable.join(' ')} (for ${names.join(', ')}): ${process.getuid?.() === 0 ? 'no apt-get here' : 'not root'}`);
  }
}

if (missing.length === 0) {
  say(`all present (${tools.map((t) => t.name).join(', ')})`);
  process.exit(0);
}
if (ci || checkOnly) {
  for (const tool of missing) {
    const how = tool.debian ? `apt-get install -y ${tool.debian.join(' ')}` : tool.get;
    say(`MISSING ${tool.name}${ci ? ' (required in CI)' : ''}; used by ${tool.usedBy}. Get it: ${how}`);
  }
  process.exit(1);
}
// The tests say once per tool, after Jest's summary, what was skipped and how to get it.
say(`missing ${missing.map((t) => t.name).join(', ')}: the tests that need ${missing.length === 1 ? 'it' : 'them'} will be skipped (see the end of the run)`);
