import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/net';
import { createPostgresCluster } from '../../src/db/embedded/PostgresCluster';

/** A PostgreSQL server the tests may create and drop databases on. */
export interface TestPostgres {
  /** Superuser URL of the `postgres` database. */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

// One network helper for the tests and the benchmark.
export { freePort } from '../../bench/net';

/** Starts a throwaway embedded PostgreSQL (password auth) on a free port, in a temp folder. */
export async function startEmbeddedTestPostgres(
  options: { password?: string; postgresFlags?: string[] } = {},
): Promise<TestPostgres & { port: number; dataDir: string; start(): Promise<void>; stopServer(mode?: 'fast' | 'immediate'): Promise<void> }> {
  const port = await freePort();
  const parent = mkdtempSync(join(tmpdir(), 'coaching-pg-'));
  // As root, the server runs as the 'postgres' user, who must reach the folder.
  chmodSync(parent, 0o755);
  const password = options.password ?? 'test-superuser-pw';
  const cluster = await createPostgresCluster({
    dataDir: join(parent, 'data'),
    port,
    superuser: 'postgres',
    password,
    postgresFlags: options.postgresFlags ?? [],
  });
  await cluster.initialise();
  await cluster.start();
  return {
    adminUrl: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir: cluster.dataDir,
    start: () => cluster.start(),
    // Stops the server the way an operator or a crash would; start() brings the same cluster back.
    stopServer: async (mode: 'fast' | 'immediate' = 'fast') => {
      await cluster.stop(mode);
      await stopPostmaster(cluster.dataDir, mode);
    },
    async stop() {
      await cluster.stop('fast');
      await stopPostmaster(cluster.dataDir, 'fast').catch(() => undefined);
      rmSync(parent, { recursive: true, force: true });
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
