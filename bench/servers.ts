import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { CoachingServiceClient } from '../src/generated/coaching/v1/coaching_service';
import { PROJECT_ROOT } from '../src/paths';
import { freePorts } from './net';
import { benchId } from './volume';

/** A server process under test. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Extra ports (metrics) when the process has them. */
  readonly metricsPort: number | undefined;
  readonly logFile: string;
  /** The node flags it was started with. */
  readonly nodeFlags: readonly string[];
  /** SIGTERM, then wait for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

/**
 * The node flags production runs the service with: `config.nodeFlags` in
 * `root`'s package.json, which `npm start` passes on (through NODE_OPTIONS) and
 * the Dockerfile and the Kubernetes Deployment repeat on their command lines
 * (test/nodeFlags.test.ts keeps the three equal). The bench starts the service
 * with them, so it measures what ships. A build without the setting has none.
 */
export function shippedNodeFlags(root = PROJECT_ROOT): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { config?: { nodeFlags?: unknown } };
  const flags = manifest.config?.nodeFlags ?? '';
  if (typeof flags !== 'string') throw new Error(`${root}/package.json: config.nodeFlags must be a string of space-separated node flags`);
  return flags.split(' ').filter((f) => f !== '');
}

/** Environment of a child: PATH and the given keys, nothing inherited by accident (no stray .env). */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ENV_FILE: '/nonexistent/.env', ...vars };
}

/** The service's environment: production-like (staging), JSON logs at info, metrics on, TLS off on loopback. */
export function serviceEnv(options: { databaseUrl: string; grpcPort: number; metricsPort: number; poolSize: number }): Record<string, string> {
  return childEnv({
    APP_ENV: 'staging',
    DATABASE_URL: options.databaseUrl,
    // An external server given without a password (local trust) is allowed explicitly, as staging requires.
    DB_AUTH: new URL(options.databaseUrl).password === '' ? 'trust' : 'password',
    DB_SSL_MODE: 'disable',
    PAGE_TOKEN_SECRET: 'bench-page-token-secret-0123456789',
    LOG_LEVEL: 'info',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(options.grpcPort),
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(options.metricsPort),
    // The admin listener is not measured; a free port keeps it out of the way of anything on 50052.
    ADMIN_GRPC_PORT: '0',
    DB_MAX_CONNECTIONS: String(options.poolSize),
    // The bench stops the service itself; a load balancer drain delay only slows that down.
    SHUTDOWN_DRAIN_DELAY_MS: '0',
    SHUTDOWN_TIMEOUT: '5',
  });
}

function waitForExit(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Polls GetProfile of the first seeded profile until it answers OK (the server is up and reaches the database). */
async function waitUntilServing(name: string, child: ChildProcess, port: number, logFile: string, timeoutMs = 60_000): Promise<void> {
  const client = new CoachingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before serving; see ${logFile}`);
      const error = await new Promise<Error | null>((resolve) => {
        client.getProfile({ id: benchId('profile', 0) }, new Metadata(), { deadline: Date.now() + 1000 }, (e) => resolve(e));
      });
      if (error === null) return;
      last = error.message;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} did not serve within ${timeoutMs} ms (last error: ${last}); see ${logFile}`);
  } finally {
    client.close();
  }
}

/** Starts `node <script>` with stdout and stderr to a log file, and waits until it serves. */
export async function startServer(options: {
  name: string;
  script: string;
  env: (port: number, metricsPort: number) => Record<string, string>;
  logDir: string;
  nodeFlags?: readonly string[];
  hasMetrics?: boolean;
  /** Folder the script path is relative to (default: this checkout). */
  root?: string;
}): Promise<ServerProcess> {
  const root = options.root ?? PROJECT_ROOT;
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const logFile = join(options.logDir, `${options.name}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), join(root, options.script)], {
    cwd: root,
    env: options.env(port, metricsPort),
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
  const pid = child.pid;
  try {
    await waitUntilServing(options.name, child, port, logFile);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    name: options.name,
    pid,
    port,
    metricsPort: options.hasMetrics === true ? metricsPort : undefined,
    logFile,
    nodeFlags: options.nodeFlags ?? [],
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop(graceMs = 15_000) {
      child.kill('SIGTERM');
      await waitForExit(child, graceMs);
    },
  };
}

/** Runs a compiled script to completion (the migration CLI); rejects on a non-zero exit. */
export function runScript(script: string, args: readonly string[], env: Record<string, string>, root = PROJECT_ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${script} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}
