import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './waitFor';
import { isListening } from './processes';
import { mustRun, pidFromFile, serverFolder, stopPid } from './serverProcesses';
import { toolCommand } from './systemTools';

/** A private redis-server for one test file: durable (AOF, fsync always) so that a stop and start keeps the stream. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts it (again, on the same port and data). */
  start(): Promise<void>;
  /** A clean stop (SIGTERM): the outage. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * Starts redis-server on a free port in a folder of this run (LIBRARY-NOTES:
 * each test file its own server). It daemonizes with a pid file there, so the
 * global teardown stops it even when the test file dies.
 */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const dir = serverFolder('redis');
  const port = await freePort();
  const pidFile = join(dir, 'redis.pid');
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'yes',
    '--pidfile',
    pidFile,
    '--logfile',
    join(dir, 'redis.log'),
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
  ];
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      await mustRun(toolCommand('redis-server'), args, { timeoutMs: 10_000 });
      // redis-server writes its pid file after it starts listening: wait for both.
      await waitFor(`redis-server on port ${port}`, async () => (await isListening(port)) && pidFromFile(pidFile) !== undefined, 10_000);
    },
    async stop() {
      const pid = pidFromFile(pidFile);
      if (pid !== undefined) await stopPid(pid, 'SIGTERM', 10_000);
      await waitFor(`redis-server on port ${port} to stop`, async () => !(await isListening(port)), 10_000);
    },
  };
  await server.start();
  return server;
}
