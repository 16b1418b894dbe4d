import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { DependencyType, ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { GetHealthResponse } from '../src/generated/coaching/health/v1/health_service';
import { randomUUID } from 'node:crypto';
import { coachingApi } from './support/grpcClient';
import { check, healthApi, probeClient, watch } from './support/healthClient';
import { startHttpStub } from './support/httpStub';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { ms } from './support/timestamps';

// Short intervals so that tests see several probes in a few seconds.
const FAST = { DB_HEALTH_CHECK_INTERVAL: '200ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '500ms' };

let db: TestDatabase;
const h = useHarness({ service: false });
beforeAll(() => ({ db } = h));

async function withService(overrides: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await h.start({ ...FAST, ...overrides });
  try {
    await body(svc);
  } finally {
    await svc.stop();
  }
}

function poolNumbers(svc: TestService): { max: number; active: number; idle: number } {
  const state = svc.service.pools.current().state();
  return { max: 4, active: state.acquiredConnections + state.pendingReleaseConnections, idle: state.idleConnections };
}

describe('GetHealth', () => {
  it('reports postgresql-primary HEALTHY with its settings and the live pool, in JSON like the treasury example', async () => {
    await withService({ DB_MAX_CONNECTIONS: '4', DB_MAX_IDLE_CONNECTIONS: '2' }, async (svc) => {
      const health = healthApi(svc.service.port);
      // Hold two connections so that the pool numbers are not all zero.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const holders = [1, 2].map(() => svc.service.pools.current().connect(() => held));
      await waitFor('two held connections', () => svc.service.pools.current().state().acquiredConnections >= 2);

      const response = await waitFor('pool info matching the pool', async () => {
        const r = await health.ok('getHealth', {});
        const pool = r.dependencies[0]?.config?.poolInfo;
        const now = poolNumbers(svc);
        return pool?.activeConnections === now.active && pool.idleConnections === now.idle ? r : undefined;
      });
      release();
      await Promise.all(holders);

      expect(response.status).toBe(ServiceStatus.SERVICE_STATUS_HEALTHY);
      expect(response.message).toBe('Service is fully operational');
      const [database] = response.dependencies;
      expect(database).toMatchObject({
        name: 'postgresql-primary',
        type: DependencyType.DEPENDENCY_TYPE_DATABASE,
        status: ServiceStatus.SERVICE_STATUS_HEALTHY,
        isCritical: true,
        message: 'Database connection healthy',
        error: '',
        consecutiveFailures: 0,
        circuitState: 'closed',
        config: { hostname: '127.0.0.1', protocol: 'postgresql', databaseName: db.name, schemaName: 'public' },
      });
      expect(database!.config!.port).toBe(Number(new URL(db.url).port));
      expect(database!.config!.poolInfo!.maxConnections).toBe(4);
      expect(database!.config!.poolInfo!.activeConnections).toBeGreaterThanOrEqual(2);
      expect(database!.lastFailureTime).toBeUndefined();
      expect(Date.now() - ms(database!.lastCheck)).toBeLessThan(5_000);
      expect(ms(response.checkedAt)).toBe(ms(database!.lastCheck));

      const json = GetHealthResponse.toJSON(response) as Record<string, any>;
      expect(Object.keys(json)).toEqual(expect.arrayContaining(['status', 'message', 'dependencies', 'checked_at']));
      expect(json.status).toBe('SERVICE_STATUS_HEALTHY');
      expect(json.dependencies[0]).toMatchObject({ name: 'postgresql-primary', type: 'DEPENDENCY_TYPE_DATABASE', is_critical: true });
      expect(Object.keys(json.dependencies[0].config.pool_info)).toEqual(expect.arrayContaining(['max_connections', 'active_connections']));
      expect(json.dependencies[0].last_check).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    });
  });
});

describe('grpc.health.v1 probes', () => {
  it('serves liveness, readiness, "" and each service name; unknown names are NOT_FOUND', async () => {
    await withService({}, async (svc) => {
      const probes = probeClient(svc.service.port);
      for (const name of ['liveness', 'readiness', '', 'coaching.v1.CoachingService', 'coaching.health.v1.HealthService']) {
        expect({ name, status: (await check(probes, name)).status }).toEqual({ name, status: 'SERVING' });
      }
      expect((await check(probes, 'no.such.Service')).error?.code).toBe(status.NOT_FOUND);
      probes.close();
    });
  });
});

describe('ListHealthEvents', () => {
  it('lists probe results newest first, pages without overlap, and keeps a bounded history', async () => {
    await withService({ HEALTH_HISTORY_SIZE: '10' }, async (svc) => {
      const health = healthApi(svc.service.port);
      // The first probe ran before start() returned; wait until it has been pushed out of the history.
      const firstProbe = svc.service.health.report().dependencies[0]!.lastCheck!.getTime();
      const all = await waitFor(
        'the first probe to leave the 10-entry history',
        async () => {
          const page = await health.ok('listHealthEvents', { pageSize: 100, pageToken: '', dependency: '' });
          return page.events.every((e) => ms(e.time) > firstProbe) ? page : undefined;
        },
        10_000,
        50,
      );
      expect(all.events).toHaveLength(10);
      expect(all.nextPageToken).toBe('');
      const times = all.events.map((e) => ms(e.time));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(all.events[0]).toMatchObject({
        environment: 'test',
        dependency: 'postgresql-primary',
        status: ServiceStatus.SERVICE_STATUS_HEALTHY,
        errorCode: '',
      });

      const first = await health.ok('listHealthEvents', { pageSize: 4, pageToken: '', dependency: 'postgresql-primary' });
      expect(first.events).toHaveLength(4);
      const second = await health.ok('listHealthEvents', { pageSize: 4, pageToken: first.nextPageToken, dependency: 'postgresql-primary' });
      expect(second.events).toHaveLength(4);
      expect(ms(second.events[0]!.time)).toBeLessThanOrEqual(ms(first.events[3]!.time));
      const none = await health.ok('listHealthEvents', { pageSize: 4, pageToken: '', dependency: 'no-such-dependency' });
      expect(none.events).toEqual([]);

      expect((await health.call('listHealthEvents', { pageSize: -1, pageToken: '', dependency: '' })).error?.code).toBe(status.INVALID_ARGUMENT);
      expect((await health.call('listHealthEvents', { pageSize: 1, pageToken: 'bm9wZQ', dependency: '' })).error?.code).toBe(status.INVALID_ARGUMENT);
      health.client.close();
    });
  });
});

/** Waits until `n` probes of `dependency` finished after `since` (ms epoch). */
async function probesAfter(svc: TestService, dependency: string, since: number, n: number): Promise<void> {
  const health = healthApi(svc.service.port);
  await waitFor(`${n} probes of ${dependency}`, async () => {
    const page = await health.ok('listHealthEvents', { pageSize: 100, pageToken: '', dependency });
    return page.events.filter((e) => ms(e.time) > since).length >= n;
  });
  health.client.close();
}

async function startUpstreamGrpc(statuses: Record<string, 'SERVING' | 'NOT_SERVING'>): Promise<{ port: number; health: HealthImplementation; server: Server }> {
  const server = new Server();
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, health, server };
}

describe('non-critical dependencies', () => {
  it('make the service DEGRADED, keep readiness SERVING and never slow the coaching API', async () => {
    const http = await startHttpStub('/healthz');
    http.respond({ status: 503, body: 'maintenance' });
    const upstream = await startUpstreamGrpc({ '': 'SERVING', 'ledger.v1.LedgerService': 'NOT_SERVING' });
    const dependencies = [
      { name: 'billing-api', type: 'HTTP_SERVICE', url: http.url, critical: false },
      { name: 'ledger-service', type: 'GRPC_SERVICE', target: `127.0.0.1:${upstream.port}`, service: 'ledger.v1.LedgerService' },
    ];
    try {
      await withService({ HEALTH_DEPENDENCIES: JSON.stringify(dependencies) }, async (svc) => {
        const health = healthApi(svc.service.port);
        const probes = probeClient(svc.service.port);
        const degraded = await health.ok('getHealth', {});
        expect(degraded.status).toBe(ServiceStatus.SERVICE_STATUS_DEGRADED);
        expect(degraded.message).toBe('Service is degraded: billing-api UNHEALTHY (non-critical), ledger-service UNHEALTHY (non-critical)');
        expect(degraded.dependencies.map((d) => [d.name, d.type, d.isCritical, d.status])).toEqual([
          ['postgresql-primary', DependencyType.DEPENDENCY_TYPE_DATABASE, true, ServiceStatus.SERVICE_STATUS_HEALTHY],
          ['billing-api', DependencyType.DEPENDENCY_TYPE_HTTP_SERVICE, false, ServiceStatus.SERVICE_STATUS_UNHEALTHY],
          ['ledger-service', DependencyType.DEPENDENCY_TYPE_GRPC_SERVICE, false, ServiceStatus.SERVICE_STATUS_UNHEALTHY],
        ]);
        expect(degraded.dependencies[1]).toMatchObject({
          message: 'billing-api answered HTTP 503',
          error: `GET ${http.url} answered 503: maintenance`,
          config: { hostname: '127.0.0.1', port: http.port, protocol: 'http', databaseName: '', schemaName: '', poolInfo: undefined },
        });
        expect(degraded.dependencies[2]).toMatchObject({
          message: 'ledger-service is not serving',
          config: { hostname: '127.0.0.1', port: upstream.port, protocol: 'grpc' },
        });
        const events = await health.ok('listHealthEvents', { pageSize: 50, pageToken: '', dependency: '' });
        expect(new Set(events.events.map((e) => e.errorCode))).toEqual(new Set(['', 'HTTP_503', 'GRPC_NOT_SERVING']));
        for (const name of ['readiness', '', 'coaching.v1.CoachingService']) expect((await check(probes, name)).status).toBe('SERVING');

        // A hanging upstream: probes time out in the background; the coaching API does not notice.
        http.respond('hang');
        const since = Date.now();
        const coaching = coachingApi(svc.client);
        const latencies: number[] = [];
        for (let i = 0; i < 30; i++) {
          const started = performance.now();
          expect((await coaching.call('getProfile', { id: randomUUID() })).error?.code).toBe(status.NOT_FOUND);
          latencies.push(performance.now() - started);
        }
        await probesAfter(svc, 'billing-api', since, 2);
        const hanging = await health.ok('getHealth', {}, { deadlineMs: 500 });
        expect(hanging.dependencies[1]).toMatchObject({ status: ServiceStatus.SERVICE_STATUS_UNHEALTHY, message: 'billing-api did not answer within 500 ms' });
        // Below the 500 ms probe timeout: a call that waited for the hanging probe would take at least that.
        expect(Math.max(...latencies)).toBeLessThan(400);

        // Both heal: HEALTHY.
        http.respond({ status: 204 });
        upstream.health.setStatus('ledger.v1.LedgerService', 'SERVING');
        await waitFor('HEALTHY', async () => (await health.ok('getHealth', {})).status === ServiceStatus.SERVICE_STATUS_HEALTHY);
        probes.close();
        health.client.close();
      });
    } finally {
      upstream.server.forceShutdown();
      await http.close();
    }
  });

  it('takes readiness down when a critical one fails, and Watch streams only real changes', async () => {
    const http = await startHttpStub('/ready');
    const dependencies = [{ name: 'identity-api', type: 'HTTP_SERVICE', url: http.url, critical: true }];
    try {
      await withService({ HEALTH_DEPENDENCIES: JSON.stringify(dependencies) }, async (svc) => {
        const probes = probeClient(svc.service.port);
        const readiness = watch(probes, 'readiness');
        const coachingStatus = watch(probes, 'coaching.v1.CoachingService');
        await waitFor('first Watch messages', () => readiness.statuses.length === 1 && coachingStatus.statuses.length === 1);
        await probesAfter(svc, 'identity-api', Date.now(), 5);

        http.respond({ status: 500, body: 'down' });
        await waitFor('readiness NOT_SERVING', () => readiness.statuses.length === 2);
        await probesAfter(svc, 'identity-api', Date.now(), 5);
        expect((await check(probes, 'liveness')).status).toBe('SERVING');
        expect((await check(probes, 'coaching.health.v1.HealthService')).status).toBe('SERVING');
        expect((await healthApi(svc.service.port).ok('getHealth', {})).status).toBe(ServiceStatus.SERVICE_STATUS_UNHEALTHY);

        http.respond({ status: 200 });
        await waitFor('readiness SERVING', () => readiness.statuses.length === 3);
        await probesAfter(svc, 'identity-api', Date.now(), 5);
        expect(readiness.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
        expect(coachingStatus.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
        readiness.cancel();
        coachingStatus.cancel();
        probes.close();
      });
    } finally {
      await http.close();
    }
  });
});

describe('a hanging or saturated database', () => {
  it('answers GetHealth and Check within 500 ms while the database hangs, and reports it UNHEALTHY', async () => {
    await withService({}, async (svc) => {
      const health = healthApi(svc.service.port);
      const probes = probeClient(svc.service.port);
      // A real hang: the probe's query waits on a lock this test holds.
      await db.query('begin');
      await db.query('lock table schema_migrations in access exclusive mode');
      try {
        const timings: number[] = [];
        const down = await waitFor('the database UNHEALTHY', async () => {
          const started = performance.now();
          const r = await health.ok('getHealth', {}, { deadlineMs: 500 });
          const c = await check(probes, 'readiness', 500);
          timings.push(performance.now() - started);
          return r.dependencies[0]!.status === ServiceStatus.SERVICE_STATUS_UNHEALTHY && c.status === 'NOT_SERVING' ? r : undefined;
        });
        expect(['STATEMENT_TIMEOUT', 'TIMEOUT']).toContain(
          (await health.ok('listHealthEvents', { pageSize: 1, pageToken: '', dependency: 'postgresql-primary' })).events[0]!.errorCode,
        );
        expect(down.dependencies[0]!.error).not.toBe('');
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          await health.ok('getHealth', {}, { deadlineMs: 500 });
          expect((await check(probes, 'liveness', 500)).status).toBe('SERVING');
          timings.push(performance.now() - started);
        }
        expect(Math.max(...timings)).toBeLessThan(500);
      } finally {
        await db.query('rollback');
      }
      await waitFor('HEALTHY again', async () => (await health.ok('getHealth', {})).status === ServiceStatus.SERVICE_STATUS_HEALTHY);
      expect((await check(probes, 'readiness')).status).toBe('SERVING');
      probes.close();
      health.client.close();
    });
  });

  it('reports an exhausted pool as DEGRADED without queueing behind it, and counts callers that waited', async () => {
    await withService({ DB_MAX_CONNECTIONS: '2', DB_MAX_IDLE_CONNECTIONS: '1' }, async (svc) => {
      const health = healthApi(svc.service.port);
      const probes = probeClient(svc.service.port);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const holders = [1, 2].map(() => svc.service.pools.current().connect(() => held));
      await waitFor('both connections held', () => svc.service.pools.current().state().acquiredConnections === 2);

      const exhausted = await waitFor('the database DEGRADED', async () => {
        const r = await health.ok('getHealth', {}, { deadlineMs: 500 });
        return r.dependencies[0]!.status === ServiceStatus.SERVICE_STATUS_DEGRADED ? r : undefined;
      });
      expect(exhausted.status).toBe(ServiceStatus.SERVICE_STATUS_DEGRADED);
      expect(exhausted.dependencies[0]).toMatchObject({
        message: 'Connection pool exhausted; database reachable',
        config: { poolInfo: { maxConnections: 2, activeConnections: 2, idleConnections: 0 } },
      });
      expect((await check(probes, 'readiness')).status).toBe('SERVING');

      // A caller now has to queue: wait_count counts it.
      const before = Number(exhausted.dependencies[0]!.config!.poolInfo!.waitCount);
      const queued = coachingApi(svc.client).call('getProfile', { id: randomUUID() });
      await waitFor('a queued caller', () => svc.service.pools.current().state().waitingClients === 1);
      const waiting = await health.ok('getHealth', {}, { deadlineMs: 500 });
      expect(Number(waiting.dependencies[0]!.config!.poolInfo!.waitCount)).toBe(before + 1);

      release();
      await Promise.all(holders);
      expect((await queued).error?.code).toBe(status.NOT_FOUND);
      await waitFor('HEALTHY again', async () => (await health.ok('getHealth', {})).status === ServiceStatus.SERVICE_STATUS_HEALTHY);
      probes.close();
      health.client.close();
    });
  });
});

describe('shutdown', () => {
  it('turns readiness NOT_SERVING before the server stops', async () => {
    const svc = await h.start(FAST);
    const probes = probeClient(svc.service.port);
    const readiness = watch(probes, 'readiness');
    await waitFor('readiness SERVING', () => readiness.statuses.length === 1);
    const stopping = svc.stop();
    await waitFor('readiness NOT_SERVING', () => readiness.statuses.length === 2);
    readiness.cancel();
    await stopping;
    expect(readiness.statuses).toEqual(['SERVING', 'NOT_SERVING']);
    probes.close();
  });
});

describe('secrets', () => {
  it('never shows a credential of a dependency URL, even when the upstream echoes it', async () => {
    const secret = 'Another-Recognisable-Secret-99';
    const http = await startHttpStub('/status');
    // The upstream echoes the credentials it received into its error body.
    http.respond((request) => ({ status: 401, body: `rejected ${Buffer.from(String(request.headers.authorization).slice(6), 'base64').toString()}` }));
    const url = http.url.replace('http://', `http://probe:${secret}@`);
    try {
      await withService({ HEALTH_DEPENDENCIES: JSON.stringify([{ name: 'audit-api', type: 'HTTP_SERVICE', url }]) }, async (svc) => {
        const response = await healthApi(svc.service.port).ok('getHealth', {});
        const audit = response.dependencies[1]!;
        expect(http.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`probe:${secret}`).toString('base64')}`);
        expect(audit.error).toBe(`GET ${http.url} answered 401: rejected probe:[redacted]`);
        expect(JSON.stringify(GetHealthResponse.toJSON(response))).not.toContain(secret);
        await waitFor('the transition log line', () => svc.logs.records().some((r) => r.dependency === 'audit-api' && r.to === 'UNHEALTHY'));
        expect(svc.logs.text()).toContain('rejected probe:[redacted]');
        expect(svc.logs.text()).not.toContain(secret);
      });
    } finally {
      await http.close();
    }
  });
});
