import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { Role } from '../src/generated/coaching/v1/profile';
import { ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { coachingApi } from './support/grpcClient';
import { healthApi } from './support/healthClient';
import { Client } from 'pg';
import { loadConfig } from '../src/config/config';
import { PROJECT_ROOT } from '../src/paths';
import { expectPromtoolAccepts, sample, scrape } from './support/promtool';
import { startEmbeddedTestPostgres } from './support/postgresServer';
import { useHarness } from './support/harness';
import { serviceEnv } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const h = useHarness({ service: false });

describe('/metrics', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await h.start({ DB_HEALTH_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '500ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms' });
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('exports RPC, database, pool and health metrics that promtool accepts', async () => {
    const coaching = coachingApi(svc.client);
    const email = `metrics-${randomUUID().slice(0, 8)}@example.com`;
    const create = (displayName: string) =>
      coaching.call('createProfile', {
        profile: {
          id: '',
          role: Role.ROLE_COACH,
          email,
          displayName,
          timezone: 'Europe/Berlin',
          bio: '',
          createTime: undefined,
          updateTime: undefined,
          etag: '',
        },
        requestId: '',
      });
    expect((await create('Metrics')).error).toBeUndefined();
    // The same email again: a business rejection, not a database failure.
    expect((await create('Again')).error?.code).toBe(status.ALREADY_EXISTS);
    await coaching.call('getProfile', { id: randomUUID() });
    await healthApi(svc.service.port).ok('getHealth', {});

    const { status: httpStatus, contentType, text } = await scrape(svc.service.metricsPort!);
    expect(httpStatus).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const coachingRpc = { grpc_service: 'coaching.v1.CoachingService' };
    expect(sample(text, 'grpc_server_handled_total', { ...coachingRpc, grpc_method: 'CreateProfile', grpc_code: 'OK' })).toBe(1);
    expect(sample(text, 'grpc_server_handled_total', { ...coachingRpc, grpc_method: 'GetProfile', grpc_code: 'NOT_FOUND' })).toBe(1);
    expect(sample(text, 'grpc_server_handling_seconds_count', { ...coachingRpc, grpc_method: 'GetProfile' })).toBe(1);
    expect(sample(text, 'grpc_server_handled_total', { grpc_service: 'coaching.health.v1.HealthService', grpc_method: 'GetHealth', grpc_code: 'OK' })).toBe(1);
    expect(sample(text, 'coaching_db_operation_duration_seconds_count', { operation: 'profiles.create', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'coaching_db_operation_duration_seconds_count', { operation: 'profiles.create', outcome: 'rejected' })).toBe(1);
    expect(sample(text, 'coaching_db_errors_total')).toBeUndefined();
    expect(sample(text, 'coaching_db_operation_duration_seconds_count', { operation: 'profiles.get', outcome: 'ok' })).toBe(1);

    const state = svc.service.pools.current().state();
    expect(sample(text, 'coaching_db_pool_max_connections')).toBe(10);
    expect(sample(text, 'coaching_db_pool_idle_connections')).toBeLessThanOrEqual(state.idleConnections + 1);
    expect(sample(text, 'coaching_db_pool_waiting_clients')).toBe(0);
    expect(sample(text, 'coaching_db_pool_utilization_ratio')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'coaching_db_pool_acquire_duration_seconds_count')).toBeGreaterThan(0);
    expect(sample(text, 'coaching_db_pool_waits_total')).toBe(0);
    expect(sample(text, 'coaching_db_connection_establish_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);

    const database = { dependency: 'postgresql-primary' };
    expect(sample(text, 'coaching_health_dependency_up', { ...database, type: 'DATABASE', critical: 'true' })).toBe(1);
    expect(sample(text, 'coaching_health_dependency_status', { ...database, status: 'HEALTHY' })).toBe(1);
    expect(sample(text, 'coaching_health_dependency_status', { ...database, status: 'UNHEALTHY' })).toBe(0);
    expect(sample(text, 'coaching_health_probe_duration_seconds_count', database)).toBeGreaterThan(0);
    expect(sample(text, 'coaching_health_status', { status: 'HEALTHY' })).toBe(1);
    expect(sample(text, 'coaching_health_ready')).toBe(1);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeDefined();

    expectPromtoolAccepts(text);
  });

  it('exports every metric the alert rules and the Grafana dashboard use', async () => {
    const { text } = await scrape(svc.service.metricsPort!);
    const exported = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
      ),
    );
    const sources = ['deploy/prometheus/coaching-service.rules.yaml', 'deploy/grafana/coaching-service.json'].map((f) =>
      readFileSync(join(PROJECT_ROOT, f), 'utf8'),
    );
    // Recording rules (level:metric:operation) are not exported metrics.
    const withoutRecordingRules = sources.map((source) => source.replace(/\b[a-z_]+:[a-z0-9_:]+/g, ''));
    const used = new Set(
      withoutRecordingRules.flatMap((source) => [...source.matchAll(/\b(?:coaching|grpc_server|nodejs|process)_[a-z0-9_]+\b/g)].map(([name]) => name)),
    );
    expect({ missing: [...used].filter((name) => !exported.has(name)) }).toEqual({ missing: [] });
    expect(used.size).toBeGreaterThan(15);
  });

  it('serves only GET /metrics', async () => {
    const base = `http://127.0.0.1:${svc.service.metricsPort}`;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

it('runs without a metrics endpoint when METRICS_ENABLED=false', async () => {
  const svc = await h.start({ METRICS_ENABLED: 'false' });
  expect(svc.service.metricsPort).toBeUndefined();
  await svc.stop();
});

it('counts authentication failures when the credentials are rotated under the service', async () => {
  // Its own PostgreSQL with password authentication: a shared test server may trust every login.
  const pg = await startEmbeddedTestPostgres();
  const role = 'coaching_rotating';
  const password = 'Rotating-Secret-Before-1';
  await withAdmin(pg.adminUrl, async (admin) => {
    await admin.query(`create role ${role} login password '${password}'`);
    await admin.query(`create database coaching_rotation owner ${role}`);
  });
  const url = new URL(pg.adminUrl);
  Object.assign(url, { username: role, password, pathname: '/coaching_rotation' });
  const config = loadConfig({
    env: serviceEnv(url.toString(), { DB_HEALTH_CHECK_INTERVAL: '200ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '500ms' }),
  });
  const svc = await startTestService(config);
  try {
    // The secret is rotated in the database but not in the service, and its sessions are cut.
    await withAdmin(pg.adminUrl, async (admin) => {
      await admin.query(`alter role ${role} password 'Rotating-Secret-After-2'`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [role]);
    });
    const health = healthApi(svc.service.port);
    const down = await waitFor('the database UNHEALTHY', async () => {
      const r = await health.ok('getHealth', {});
      return r.dependencies[0]!.status === ServiceStatus.SERVICE_STATUS_UNHEALTHY ? r : undefined;
    });
    const [event] = (await health.ok('listHealthEvents', { pageSize: 1, pageToken: '', dependency: 'postgresql-primary' })).events;
    expect(event!.errorCode).toBe('AUTH_FAILED');
    expect(down.dependencies[0]!.error).toContain(`password authentication failed for user "${role}"`);
    const { text } = await scrape(svc.service.metricsPort!);
    expect(sample(text, 'coaching_db_errors_total', { stage: 'connect', type: 'AUTH_FAILED' })).toBeGreaterThan(0);
    expect(sample(text, 'coaching_health_probe_failures_total', { dependency: 'postgresql-primary', type: 'AUTH_FAILED' })).toBeGreaterThan(0);
    expect(svc.logs.text()).not.toContain(password);
    health.client.close();
  } finally {
    await svc.stop();
    await pg.stop();
  }
});

async function withAdmin(adminUrl: string, work: (admin: Client) => Promise<void>): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}
