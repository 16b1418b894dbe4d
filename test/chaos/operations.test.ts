/**
 * Chaos suite, operations: password rotation, rolling restart of two
 * instances, SIGTERM of a real process under load, and a reply lost after
 * commit. Each asserts zero failed RPCs where the issue demands it and zero
 * lost or duplicated acknowledged writes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/config';
import { CoachingServiceClient } from '../../src/generated/coaching/v1/coaching_service';
import { Role } from '../../src/generated/coaching/v1/profile';
import { coachingApi } from '../support/grpcClient';
import { freePort, startEmbeddedTestPostgres } from '../support/postgresServer';
import { serviceEnv } from '../support/testDatabase';
import { startTestService, type TestService } from '../support/testService';
import { waitFor } from '../support/waitFor';
import { childEnv, ensureBuilt, startNode } from '../support/processes';
import { createChaosWorld, createKnownProfiles, databaseUrl, FAST_RECOVERY, pgQuery } from './support/chaosWorld';
import { LoadGenerator } from './support/LoadGenerator';
import { failedByCode, renderTable, type ChaosRow } from './support/summary';
import { newProfile } from '../support/profiles';

type Server = Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
let server: Server;
const rows: ChaosRow[] = [];

beforeAll(async () => {
  server = await startEmbeddedTestPostgres();
});
afterAll(async () => {
  process.stdout.write(`\nChaos summary (operations)\n${renderTable(rows)}\n`);
  await server.stop();
});

function debugFailures(label: string, outcomes: readonly { code: status; details?: string }[]): void {
  if (!process.env.CHAOS_DEBUG) return;
  const counts: Record<string, number> = {};
  for (const o of outcomes)
    if (o.code !== status.OK) counts[`${status[o.code]} ${o.details ?? ''}`] = (counts[`${status[o.code]} ${o.details ?? ''}`] ?? 0) + 1;
  process.stdout.write(`${label}: ${JSON.stringify(counts, null, 1)}\n`);
}

async function verify(adminUrl: string, load: LoadGenerator, tag: string): Promise<{ lost: number; duplicated: number }> {
  const found = await pgQuery<{ email: string; n: number; ids: string[] }>(
    adminUrl,
    `select email, count(*)::int as n, array_agg(id::text) as ids from profiles where email like $1 group by email`,
    [`${tag}-%`],
  );
  const byEmail = new Map(found.map((r) => [r.email, r]));
  return { lost: load.acknowledged.filter((a) => !byEmail.get(a.email)?.ids.includes(a.id)).length, duplicated: found.filter((r) => r.n > 1).length };
}

it('password rotation under load (new role password + file change): zero failed RPCs; a wrong new password keeps the old pool serving', async () => {
  const role = `app_${randomUUID().slice(0, 8)}`;
  const database = `rotation_${randomUUID().slice(0, 8)}`;
  await pgQuery(server.adminUrl, `create role ${role} login password 'first-Pa55word'`);
  await pgQuery(server.adminUrl, `create database ${database} owner ${role}`);
  const secretDir = mkdtempSync(join(tmpdir(), 'coaching-secret-'));
  const passwordFile = join(secretDir, 'db_password');
  writeFileSync(passwordFile, 'first-Pa55word\n');
  const url = databaseUrl(server, database, { user: role });
  const config = loadConfig({ env: serviceEnv(url, { ...FAST_RECOVERY, DB_PASSWORD_FILE: passwordFile }) });
  const svc = await startTestService(config);
  const world = await createChaosWorldFor(svc, 'rotation');
  try {
    world.load.start();
    await waitFor('load under way', () => (world.load.okSince(0) >= 20 ? true : undefined));
    const from = Date.now();

    await pgQuery(server.adminUrl, `alter role ${role} password 'second-Pa55word'`);
    writeFileSync(passwordFile, 'second-Pa55word\n');
    await waitFor('the new pool in service', () =>
      svc.service.pools.lastReload?.ok === true && svc.service.pools.lastReload.at.getTime() >= from ? true : undefined,
    );
    // Old connections were authenticated before; force new ones under the new password.
    await pgQuery(server.adminUrl, `select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role]);
    const okAfterSwap = world.load.okSince(from);
    await waitFor('calls served by the new pool', () => (world.load.okSince(from) >= okAfterSwap + 20 ? true : undefined));

    const wrongAt = Date.now();
    writeFileSync(passwordFile, 'not-the-Pa55word\n');
    await waitFor('the wrong password refused', () =>
      svc.service.pools.lastReload?.ok === false && svc.service.pools.lastReload.at.getTime() >= wrongAt ? true : undefined,
    );
    expect(svc.service.pools.lastReload?.error).toMatch(/credentials|authentication/);
    expect(svc.service.pools.lastReload?.error).not.toContain('not-the-Pa55word');
    const okAfterRefusal = world.load.okSince(from);
    await waitFor('still serving on the old pool', () => (world.load.okSince(from) >= okAfterRefusal + 20 ? true : undefined));
    await world.load.stop();

    const { lost, duplicated } = await verify(databaseUrl(server, database), world.load, 'rotation');
    const outcomes = world.load.since(from);
    debugFailures('rotation', outcomes);
    if (process.env.CHAOS_DEBUG)
      process.stdout.write(
        svc.logs.lines
          .filter((l) => l.includes('"level":"error"'))
          .join('\n')
          .slice(0, 3000) + '\n',
      );
    rows.push({ scenario: 'password rotation (+ refused wrong password)', failedByCode: failedByCode(outcomes), lost, duplicated, calls: outcomes.length });
    expect(failedByCode(outcomes)).toEqual({});
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(svc.logs.text()).not.toContain('Pa55word');
  } finally {
    await world.load.stop();
    await svc.stop();
  }
});

/** Load and known profiles on an already running service. */
async function createChaosWorldFor(svc: TestService, tag: string): Promise<{ load: LoadGenerator; knownIds: string[] }> {
  const knownIds = await createKnownProfiles(svc.client, tag, 5);
  return { load: new LoadGenerator(svc.client, { workers: 4, deadlineMs: 3000, knownIds, tag }), knownIds };
}

it('rolling restart of two instances behind a round-robin client under load: zero failed RPCs', async () => {
  const database = `rolling_${randomUUID().slice(0, 8)}`;
  await pgQuery(server.adminUrl, `create database ${database}`);
  const url = databaseUrl(server, database);
  const portA = await freePort();
  let portB = await freePort();
  while (portB === portA) portB = await freePort();
  const start = (port: number) =>
    startTestService(loadConfig({ env: serviceEnv(url, { ...FAST_RECOVERY, GRPC_PORT: String(port), SHUTDOWN_DRAIN_DELAY_MS: '300' }) }));
  let a = await start(portA);
  let b = await start(portB);
  const client = new CoachingServiceClient(`ipv4:127.0.0.1:${portA},127.0.0.1:${portB}`, credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    // Reconnect to a restarted instance promptly (the default backoff starts at 1 s and grows).
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 500,
  });
  const knownIds = await createKnownProfiles(a.client, 'rolling', 5);
  const balanced = new LoadGenerator(client, { workers: 4, deadlineMs: 3000, knownIds, tag: 'rolling' });
  try {
    balanced.start();
    await waitFor('load under way', () => (balanced.okSince(0) >= 20 ? true : undefined));
    const from = Date.now();
    for (const which of ['a', 'b'] as const) {
      const restartedAt = Date.now();
      if (which === 'a') {
        await a.stop();
        a = await start(portA);
      } else {
        await b.stop();
        b = await start(portB);
      }
      // Like a rollout that waits for the new pod: go on once the restarted instance takes traffic.
      const restarted = which === 'a' ? a : b;
      await waitFor(`the restarted instance ${which} serving the balanced client`, () =>
        restarted.logs.lines.filter((l) => l.includes('"msg":"rpc finished"')).length >= 20 ? true : undefined,
      );
      expect(balanced.okSince(restartedAt)).toBeGreaterThan(0);
    }
    await balanced.stop();
    const { lost, duplicated } = await verify(url, balanced, 'rolling');
    const outcomes = balanced.since(from);
    debugFailures('rolling', outcomes);
    rows.push({ scenario: 'rolling restart of two instances', failedByCode: failedByCode(outcomes), lost, duplicated, calls: outcomes.length });
    expect(failedByCode(outcomes)).toEqual({});
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
  } finally {
    await balanced.stop();
    client.close();
    await a.stop();
    await b.stop();
  }
});

it('SIGTERM of a real service process under load: in-flight calls finish, exit code 0, nothing lost', async () => {
  ensureBuilt();
  const database = `sigterm_${randomUUID().slice(0, 8)}`;
  await pgQuery(server.adminUrl, `create database ${database}`);
  const url = databaseUrl(server, database);
  const port = await freePort();
  const proc = startNode(
    'dist/src/main.js',
    [],
    childEnv({ ...serviceEnv(url, { ...FAST_RECOVERY, GRPC_PORT: String(port), LOG_LEVEL: 'info', SHUTDOWN_DRAIN_DELAY_MS: '500' }) }),
  );
  const client = new CoachingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const api = coachingApi(client);
    const known = await waitFor(
      'the process serving',
      async () =>
        (
          await api.call('createProfile', {
            profile: newProfile({ role: Role.ROLE_COACH, email: `known@sigterm-${randomUUID().slice(0, 6)}.example.com`, displayName: 'Known' }),
            requestId: '',
          })
        ).response?.profile?.id,
      { timeoutMs: 20_000 },
    );
    const load = new LoadGenerator(client, { workers: 4, deadlineMs: 3000, knownIds: [known], tag: 'sigterm' });
    load.start();
    await waitFor('load under way', () => (load.okSince(0) >= 20 ? true : undefined));
    const from = Date.now();
    proc.child.kill('SIGTERM');
    const finished = await proc.exited(30_000);
    await load.stop();
    expect(finished.code).toBe(0);
    // Calls during the drain delay succeed; after the server stopped accepting they fail UNAVAILABLE, never mid-call.
    const outcomes = load.since(from);
    debugFailures('sigterm', outcomes);
    if (process.env.CHAOS_DEBUG)
      process.stdout.write(
        JSON.stringify(outcomes.filter((o) => o.code !== status.OK).map((o) => [o.at - from, o.method, o.code, Math.round(o.latencyMs)])) +
          '\n' +
          finished.stdout
            .split('\n')
            .filter((l) => !l.includes('rpc finished') || l.includes('CANCEL'))
            .join('\n') +
          '\n',
      );
    const drainOk = outcomes.filter((o) => o.at < from + 400 && o.code === status.OK).length;
    expect(drainOk).toBeGreaterThan(0);
    // Every call the server took in finished OK: none was cut off by the shutdown.
    const served = finished.stdout.split('\n').filter((l) => l.includes('"msg":"rpc finished"'));
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter((l) => !l.includes('"code":"OK"'))).toEqual([]);
    // The client saw failures only for calls it sent as the server stopped accepting (never taken in, so fast).
    const failures = outcomes.filter((o) => o.code !== status.OK);
    expect(failures.every((o) => (o.code === status.UNAVAILABLE || o.code === status.CANCELLED) && o.latencyMs < 1000)).toBe(true);
    expect(finished.stdout).toContain('"shutdown":"graceful"');
    const { lost, duplicated } = await verify(url, load, 'sigterm');
    rows.push({ scenario: 'SIGTERM during load (real process)', failedByCode: failedByCode(outcomes), lost, duplicated, calls: outcomes.length });
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
  } finally {
    client.close();
    proc.child.kill('SIGKILL');
  }
});

it('a reply lost after commit: the retried create (same request_id) returns the original and writes once', async () => {
  const world = await createChaosWorld(server, 'lostreply');
  // A TCP proxy in front of the service that can swallow everything the server sends back.
  let swallow = false;
  const sockets = new Set<Socket>();
  const proxy = createServer((inbound) => {
    const outbound = connect(world.svc.service.port, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound);
    outbound.on('data', (chunk: Buffer) => {
      if (!swallow) inbound.write(chunk);
    });
    for (const s of [inbound, outbound]) s.on('error', () => undefined).on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyPort = (proxy.address() as { port: number }).port;
  const viaProxy = new CoachingServiceClient(`127.0.0.1:${proxyPort}`, credentials.createInsecure());
  try {
    const requestId = randomUUID();
    const email = `lostreply-${randomUUID().slice(0, 8)}@example.com`;
    const request = {
      profile: {
        id: '',
        role: Role.ROLE_PARTICIPANT,
        email,
        displayName: 'Lost Reply',
        timezone: 'UTC',
        bio: '',
        createTime: undefined,
        updateTime: undefined,
        etag: '',
      },
      requestId,
    };
    await coachingApi(viaProxy)
      .ok('getProfile', { id: randomUUID() })
      .catch(() => undefined); // connection established
    swallow = true;
    const first = await coachingApi(viaProxy).call('createProfile', request, { deadlineMs: 1000 });
    expect(first.error?.code).toBe(status.DEADLINE_EXCEEDED);
    // The server committed although the client never heard back.
    await waitFor('the first attempt committed', async () =>
      (await pgQuery(world.adminUrl, 'select id from profiles where email = $1', [email])).length === 1 ? true : undefined,
    );
    for (const s of sockets) s.destroy();
    const retry = await coachingApi(world.svc.client).ok('createProfile', request);
    const stored = await pgQuery<{ id: string }>(world.adminUrl, 'select id from profiles where email = $1', [email]);
    expect(stored).toEqual([{ id: retry.profile!.id }]);
    rows.push({ scenario: 'reply lost after commit, retried', failedByCode: { DEADLINE_EXCEEDED: 1 }, lost: 0, duplicated: stored.length - 1, calls: 2 });
  } finally {
    viaProxy.close();
    for (const s of sockets) s.destroy();
    proxy.close();
    await world.close();
  }
});
