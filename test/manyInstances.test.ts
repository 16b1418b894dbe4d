/**
 * Three service processes on one database, as three pods would run: started
 * together they apply the migrations once; the same request_id sent to all
 * three at once has one effect; a rolling restart under load through the
 * typed client (round_robin over the three) fails no RPC; an outage alerts
 * on every instance, each naming itself, but pages once (the pager lease).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { CoachingServiceError, createCoachingClient, type CoachingClient } from '../src/client';
import { loadMigrations } from '../src/db/migrations';
import { MIGRATIONS_DIR } from '../src/paths';
import { startHttpStub, type HttpStub } from './support/httpStub';
import { childEnv, ensureBuilt, isListening, jsonLines, startNode, type NodeProcess } from './support/processes';
import { newProfile } from './support/profiles';
import { startPrimary, type PgNode } from './support/replication';
import { describeWithTools } from './support/systemTools';
import { waitFor } from './support/waitFor';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describeWithTools(['postgresql-15'], 'three instances on one database', () => {
  let db: PgNode;
  let webhook: HttpStub;
  const ports: number[] = [];
  const instances: NodeProcess[] = [];
  const earlier: NodeProcess[] = [];

  const env = (i: number): Record<string, string> =>
    childEnv({
      APP_ENV: 'test',
      LOG_LEVEL: 'info',
      INSTANCE_ID: `instance-${i + 1}`,
      DATABASE_URL: db.url('coaching'),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(ports[i]),
      ADMIN_GRPC_ENABLED: 'false',
      METRICS_ENABLED: 'false',
      DB_MIGRATE_ON_START: 'true',
      DB_MAX_CONNECTIONS: '5',
      DB_HEALTH_CHECK_INTERVAL: '500ms',
      HEALTH_FAILING_CHECK_INTERVAL: '250ms',
      HEALTH_ALERT_AFTER_FAILURES: '2',
      DB_PING_TIMEOUT: '1000ms',
      DB_CONNECT_TIMEOUT: '1',
      ALERT_WEBHOOK_URL: webhook.url,
      // Long enough for clients to see the GOAWAY and move on.
      SHUTDOWN_DRAIN_DELAY_MS: '300',
      SHUTDOWN_TIMEOUT: '10',
    });
  const start = (i: number): NodeProcess => {
    const p = startNode('dist/src/main.js', [], env(i));
    if (instances[i] !== undefined) earlier.push(instances[i]);
    instances[i] = p;
    return p;
  };
  const serving = (p: NodeProcess): boolean => jsonLines(p.stdout()).some((l) => l.msg === 'coaching-service serving');

  beforeAll(async () => {
    ensureBuilt();
    db = await startPrimary('many');
    await db.query('create database coaching');
    webhook = await startHttpStub('/alerts');
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    // All three at once: the migration lock lets one apply and the others find the schema current.
    for (let i = 0; i < 3; i++) start(i);
    await waitFor('three instances serving', () => instances.every(serving), { timeoutMs: 90_000, intervalMs: 100 });
  }, 180_000);

  afterAll(async () => {
    for (const p of instances) p?.child.kill('SIGTERM');
    await Promise.all(instances.map((p) => p?.exited(30_000).catch(() => undefined)));
    await webhook?.close();
    await db?.stop('immediate');
    if (db !== undefined) rmSync(db.home, { recursive: true, force: true });
  }, 60_000);

  const client = (ports_: readonly number[]): CoachingClient =>
    createCoachingClient({ target: `ipv4:${ports_.map((p) => `127.0.0.1:${p}`).join(',')}`, tls: false, defaultDeadlineMs: 5_000 });

  it('applies the migrations once when the three start together', async () => {
    const applied = await db.query<{ version: number; n: number }>(
      'select version, count(*)::int as n from schema_migrations group by version order by version',
      [],
      'coaching',
    );
    expect(applied).toEqual(loadMigrations(MIGRATIONS_DIR).map((m) => ({ version: m.version, n: 1 })));
    for (const p of instances) expect(jsonLines(p.stdout()).filter((l) => l.level === 50)).toEqual([]);
  });

  it('gives the same request_id sent to all three at once one effect', async () => {
    const clients = ports.map((port) => client([port]));
    try {
      for (let round = 0; round < 5; round++) {
        const requestId = randomUUID();
        const profile = newProfile();
        const results = await Promise.all(clients.map((c) => c.createProfile({ profile, requestId })));
        expect(new Set(results.map((r) => r.profile!.id)).size).toBe(1);
        expect(await db.query('select count(*)::int as n from profiles where email = $1', [profile.email], 'coaching')).toEqual([{ n: 1 }]);
      }
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('fails no RPC during a rolling restart of all three under load', async () => {
    const c = client(ports);
    const failures: string[] = [];
    const written: string[] = [];
    let calls = 0;
    let loading = true;
    const seed = await c.createProfile({ profile: newProfile() });
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; loading; i++) {
        try {
          calls++;
          if (i % 2 === 0) {
            const email = `rolling-${w}-${i}-${randomUUID().slice(0, 6)}@example.com`;
            await c.createProfile({ profile: newProfile({ email }) });
            written.push(email);
          } else {
            await c.getProfile({ id: seed.profile!.id });
          }
        } catch (error) {
          failures.push(error instanceof CoachingServiceError ? `${error.code} ${error.reason}` : String(error));
        }
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    try {
      await waitFor('load on all three', () => calls > 30);
      for (let i = 0; i < 3; i++) {
        const old = instances[i]!;
        old.child.kill('SIGTERM');
        const finished = await old.exited(30_000);
        expect(finished.code).toBe(0);
        const next = start(i);
        await waitFor(`instance ${i + 1} serving again`, () => serving(next), { timeoutMs: 60_000, intervalMs: 50 });
        expect(await isListening(ports[i]!)).toBe(true);
        const before = calls;
        await waitFor('load between restarts', () => calls > before + 20);
      }
    } finally {
      loading = false;
      await Promise.all(workers);
      c.close();
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(60);
    const stored = await db.query<{ n: number }>('select count(*)::int as n from profiles where email = any($1)', [written], 'coaching');
    expect(stored).toEqual([{ n: written.length }]);
  }, 240_000);

  it('alerts on every instance, each naming itself, but pages once for one outage', async () => {
    const before = webhook.requests.length;
    await db.stop('fast');
    const alerts = await waitFor(
      'an alert line on each instance',
      () => {
        const lines = instances.map((p) =>
          jsonLines(p.stdout()).find((l) => l.alert === 'DependencyDown' && l.alertState === 'firing' && l.dependency === 'postgresql-primary'),
        );
        return lines.every((l) => l !== undefined) && lines;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(alerts.map((l) => l.instance)).toEqual(['instance-1', 'instance-2', 'instance-3']);
    expect(alerts.filter((l) => l.paged === true)).toHaveLength(1);
    await waitFor('the page', () => webhook.requests.length > before);
    await db.start();
    await waitFor(
      'the recovery page',
      () => webhook.requests.slice(before).some((r) => (JSON.parse(r.body) as { status: string }).status === 'resolved'),
      30_000,
    );
    const pages = webhook.requests.slice(before).map((r) => JSON.parse(r.body) as { status: string; instance: string; dependency: string });
    const pager = alerts.find((l) => l.paged === true)!.instance;
    expect(pages.filter((p) => p.dependency === 'postgresql-primary').map((p) => [p.status, p.instance])).toEqual([
      ['firing', pager],
      ['resolved', pager],
    ]);
  }, 90_000);
});
