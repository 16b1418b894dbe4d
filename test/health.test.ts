import { status } from '@grpc/grpc-js';
import { DependencyType, ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { GetHealthResponse } from '../src/generated/coaching/health/v1/health_service';
import { check, healthApi, probeClient } from './support/healthClient';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

// Short intervals so that tests see several probes in a few seconds.
const FAST = { DB_HEALTH_CHECK_INTERVAL: '200ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '500ms' };

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function withService(overrides: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await startTestService(db.config({ ...FAST, ...overrides }));
  try {
    await body(svc);
  } finally {
    await svc.stop();
  }
}

function poolNumbers(svc: TestService): { max: number; active: number; idle: number } {
  const state = svc.service.pool.state();
  return { max: 4, active: state.acquiredConnections + state.pendingReleaseConnections, idle: state.idleConnections };
}

describe('GetHealth', () => {
  it('reports postgresql-primary HEALTHY with its settings and the live pool, in JSON like the treasury example', async () => {
    await withService({ DB_MAX_CONNECTIONS: '4', DB_MAX_IDLE_CONNECTIONS: '2' }, async (svc) => {
      const health = healthApi(svc.service.port);
      // Hold two connections so that the pool numbers are not all zero.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const holders = [1, 2].map(() => svc.service.pool.connect(() => held));
      await waitFor('two held connections', () => svc.service.pool.state().acquiredConnections >= 2);

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
        circuitState: '',
        config: { hostname: '127.0.0.1', protocol: 'postgresql', databaseName: db.name, schemaName: 'public' },
      });
      expect(database!.config!.port).toBe(Number(new URL(db.url).port));
      expect(database!.config!.poolInfo!.maxConnections).toBe(4);
      expect(database!.config!.poolInfo!.activeConnections).toBeGreaterThanOrEqual(2);
      expect(database!.lastFailureTime).toBeUndefined();
      expect(Date.now() - database!.lastCheck!.getTime()).toBeLessThan(5_000);
      expect(response.checkedAt!.getTime()).toBe(database!.lastCheck!.getTime());

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
          return page.events.every((e) => e.time!.getTime() > firstProbe) ? page : undefined;
        },
        10_000,
        50,
      );
      expect(all.events).toHaveLength(10);
      expect(all.nextPageToken).toBe('');
      const times = all.events.map((e) => e.time!.getTime());
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
      expect(second.events[0]!.time!.getTime()).toBeLessThanOrEqual(first.events[3]!.time!.getTime());
      const none = await health.ok('listHealthEvents', { pageSize: 4, pageToken: '', dependency: 'no-such-dependency' });
      expect(none.events).toEqual([]);

      expect((await health.call('listHealthEvents', { pageSize: -1, pageToken: '', dependency: '' })).error?.code).toBe(status.INVALID_ARGUMENT);
      expect((await health.call('listHealthEvents', { pageSize: 1, pageToken: 'bm9wZQ', dependency: '' })).error?.code).toBe(status.INVALID_ARGUMENT);
      health.client.close();
    });
  });
});
