import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createPostgresCluster } from '../src/db/embedded/PostgresCluster';
import { freePort } from './net';

/** The PostgreSQL the bench runs against, with one database of its own. */
export interface BenchDatabase {
  /** URL of the bench database (with credentials). */
  readonly url: string;
  /** Postmaster pid when the server is local and ours (its backends' CPU is then measured). */
  readonly postmasterPid: number | undefined;
  readonly description: string;
  stop(): Promise<void>;
}

const SUPERUSER_PASSWORD = 'bench-superuser-pw';

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Starts an embedded PostgreSQL on a free port in a temporary folder (as the
 * tests do), or uses the server of BENCH_DATABASE_URL (a role that may create
 * databases). Either way the bench gets a fresh database, dropped at the end.
 */
export async function startBenchDatabase(options: { externalUrl: string | undefined; maxConnections: number }): Promise<BenchDatabase> {
  const name = `coaching_bench_${process.pid}`;
  if (options.externalUrl !== undefined) {
    const adminUrl = options.externalUrl;
    await adminQuery(adminUrl, `drop database if exists ${name}`);
    await adminQuery(adminUrl, `create database ${name}`);
    const host = new URL(adminUrl).host;
    return {
      url: withDatabase(adminUrl, name),
      postmasterPid: undefined,
      description: `external PostgreSQL at ${host} (BENCH_DATABASE_URL)`,
      stop: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`),
    };
  }

  const port = await freePort();
  const parent = mkdtempSync(join(tmpdir(), 'coaching-bench-pg-'));
  // As root, the server runs as the 'postgres' user, who must reach the folder.
  chmodSync(parent, 0o755);
  const cluster = await createPostgresCluster({
    dataDir: join(parent, 'data'),
    port,
    superuser: 'postgres',
    password: SUPERUSER_PASSWORD,
    // Room for the service's, the bare server's and the raw client's pools plus pgbench's clients at once.
    postgresFlags: ['-c', `max_connections=${options.maxConnections}`],
  });
  await cluster.initialise();
  await cluster.start();
  const adminUrl = `postgresql://postgres:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`;
  await adminQuery(adminUrl, `create database ${name}`);
  const version = await (async () => {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '?';
    } finally {
      await client.end();
    }
  })();
  return {
    url: withDatabase(adminUrl, name),
    postmasterPid: Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    description: `embedded PostgreSQL ${version} on 127.0.0.1:${port} (default settings, max_connections=${options.maxConnections})`,
    async stop() {
      await cluster.stop().catch(() => undefined);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
