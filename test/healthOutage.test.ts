/**
 * The "done when": a real PostgreSQL stopped and restarted under a
 * running service. Readiness goes NOT_SERVING and back, liveness stays
 * SERVING, GetHealth shows the outage and then the live pool, one alert and
 * one recovery notice reach a real webhook in bounded time, Prometheus
 * tooling accepts the metrics, and the recognisable database password shows
 * up nowhere.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { loadConfig } from '../src/config/config';
import { ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { GetHealthResponse } from '../src/generated/coaching/health/v1/health_service';
import { coachingApi } from './support/grpcClient';
import { check, healthApi, probeClient, watch } from './support/healthClient';
import { startHttpStub, type HttpStub } from './support/httpStub';
import { startEmbeddedTestPostgres } from './support/postgresServer';
import { expectPromtoolAccepts, sample, scrape } from './support/promtool';
import { serviceEnv } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { ms } from './support/timestamps';

const PASSWORD = 'Recognisable-Pa55word-4711';
const INTERVAL_MS = 500;
const FAILING_INTERVAL_MS = 500;
const PING_TIMEOUT_MS = 1_000;
const ALERT_AFTER = 3;
// Worst case to alert: one healthy interval until the first failing probe, then
// ALERT_AFTER probes each bounded by the ping timeout; plus scheduling slack.
const ALERT_BOUND_MS = INTERVAL_MS + ALERT_AFTER * Math.max(FAILING_INTERVAL_MS, PING_TIMEOUT_MS) + 2_000;
// Once PostgreSQL accepts connections again: the next failing-interval probe heals it.
const RECOVERY_BOUND_MS = FAILING_INTERVAL_MS + PING_TIMEOUT_MS + 2_000;

let pg: Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
let webhook: HttpStub;
let svc: TestService;

beforeAll(async () => {
  pg = await startEmbeddedTestPostgres({ password: PASSWORD });
  const admin = new Client({ connectionString: pg.adminUrl });
  await admin.connect();
  await admin.query('create database coaching_outage');
  await admin.end();
  webhook = await startHttpStub('/hooks/alerts');
  const url = new URL(pg.adminUrl);
  url.pathname = '/coaching_outage';
  const config = loadConfig({
    env: serviceEnv(url.toString(), {
      DB_HEALTH_CHECK_INTERVAL: `${INTERVAL_MS}ms`,
      HEALTH_FAILING_CHECK_INTERVAL: `${FAILING_INTERVAL_MS}ms`,
      DB_PING_TIMEOUT: `${PING_TIMEOUT_MS}ms`,
      HEALTH_ALERT_AFTER_FAILURES: String(ALERT_AFTER),
      ALERT_WEBHOOK_URL: webhook.url,
      DB_CONNECT_TIMEOUT: '2',
    }),
  });
  svc = await startTestService(config);
});

afterAll(async () => {
  await svc?.stop();
  await webhook?.close();
  await pg?.stop();
});

const posted = (state: string) => webhook.requests.filter((r) => (JSON.parse(r.body) as { status?: string }).status === state);

it('detects, alerts and recovers when the real database stops and starts again', async () => {
  const port = svc.service.port;
  const probes = probeClient(port);
  const health = healthApi(port);
  const coaching = coachingApi(svc.client);
  const readiness = watch(probes, 'readiness');
  const liveness = watch(probes, 'liveness');
  await waitFor('the readiness and liveness watches to start', () => readiness.statuses.length === 1 && liveness.statuses.length === 1);
  expect(readiness.statuses).toEqual(['SERVING']);

  // --- outage --------------------------------------------------------------
  // The outage starts when PostgreSQL starts shutting down (it ends sessions at once).
  const stoppedAt = Date.now();
  await pg.stopServer();

  const getHealthMs: number[] = [];
  const timedGetHealth = async (): Promise<GetHealthResponse> => {
    const started = performance.now();
    const response = await health.ok('getHealth', {}, { deadlineMs: 500 });
    getHealthMs.push(performance.now() - started);
    return response;
  };
  const down = await waitFor('GetHealth to report the database UNHEALTHY', async () => {
    const r = await timedGetHealth();
    return r.dependencies[0]!.status === ServiceStatus.SERVICE_STATUS_UNHEALTHY ? r : undefined;
  });
  const detectedMs = Date.now() - stoppedAt;
  await waitFor('readiness NOT_SERVING on the Watch stream', () => readiness.statuses.includes('NOT_SERVING'));
  const notReadyMs = readiness.times[readiness.statuses.indexOf('NOT_SERVING')]! - stoppedAt;

  const [firing] = await waitFor('the alert webhook POST', () => (posted('firing').length > 0 ? posted('firing') : undefined), ALERT_BOUND_MS + 5_000);
  const alertMs = firing!.at - stoppedAt;

  // While down: liveness SERVING, Check and GetHealth answer fast, the API fails fast with UNAVAILABLE.
  const live = await check(probes, 'liveness', 500);
  const ready = await check(probes, 'readiness', 500);
  expect([live.status, ready.status]).toEqual(['SERVING', 'NOT_SERVING']);
  expect(Math.max(live.ms, ready.ms)).toBeLessThan(500);
  const during = await timedGetHealth();
  expect(during.status).toBe(ServiceStatus.SERVICE_STATUS_UNHEALTHY);
  const database = during.dependencies[0]!;
  expect(database).toMatchObject({ name: 'postgresql-primary', status: ServiceStatus.SERVICE_STATUS_UNHEALTHY, message: 'Database connection failed' });
  expect(database.consecutiveFailures).toBeGreaterThanOrEqual(ALERT_AFTER);
  expect(ms(database.lastFailureTime)).toBeGreaterThanOrEqual(stoppedAt);
  expect(database.error).not.toBe('');
  expect(down.dependencies[0]!.lastFailureTime).toBeDefined();
  const call = await coaching.call('getProfile', { id: randomUUID() }, { metadata: { 'x-request-id': 'outage-corr-1' }, deadlineMs: 5_000 });
  expect(call.error?.code).toBe(status.UNAVAILABLE);

  const events = await health.ok('listHealthEvents', { pageSize: 10, pageToken: '', dependency: 'postgresql-primary' });
  expect(events.events[0]).toMatchObject({ status: ServiceStatus.SERVICE_STATUS_UNHEALTHY, environment: 'test' });
  expect(['CONNECTION_REFUSED', 'SERVER_SHUTTING_DOWN', 'CONNECTION_LOST', 'CONNECTION_FAILED']).toContain(events.events[0]!.errorCode);

  const outageMetrics = await scrape(svc.service.metricsPort!);
  expect(sample(outageMetrics.text, 'coaching_health_dependency_up', { dependency: 'postgresql-primary' })).toBe(0);
  expect(sample(outageMetrics.text, 'coaching_health_ready')).toBe(0);
  expect(sample(outageMetrics.text, 'coaching_health_alerts_total', { dependency: 'postgresql-primary', state: 'firing' })).toBe(1);
  expectPromtoolAccepts(outageMetrics.text);

  // --- recovery ------------------------------------------------------------
  await pg.start();
  const restartedAt = Date.now();
  const [resolved] = await waitFor(
    'the recovery webhook POST',
    () => (posted('resolved').length > 0 ? posted('resolved') : undefined),
    RECOVERY_BOUND_MS + 5_000,
  );
  const recoveryMs = resolved!.at - restartedAt;
  await waitFor('readiness SERVING again', () => readiness.statuses.length === 3);
  const readyAgainMs = readiness.times[2]! - restartedAt;

  const healed = await waitFor('GetHealth HEALTHY with pool numbers matching the pool', async () => {
    const r = await timedGetHealth();
    const pool = r.dependencies[0]!.config!.poolInfo!;
    const state = svc.service.pools.current().state();
    const matches =
      pool.maxConnections === 10 &&
      pool.activeConnections === state.acquiredConnections + state.pendingReleaseConnections &&
      pool.idleConnections === state.idleConnections;
    return r.status === ServiceStatus.SERVICE_STATUS_HEALTHY && matches ? r : undefined;
  });
  expect(healed.dependencies[0]).toMatchObject({ consecutiveFailures: 0, error: '', message: 'Database connection healthy' });
  expect(ms(healed.dependencies[0]!.lastFailureTime)).toBeLessThan(restartedAt + RECOVERY_BOUND_MS);

  // No storm: several more healthy probes later there are still exactly one alert and one recovery.
  const lastCheck = ms(healed.dependencies[0]!.lastCheck);
  await waitFor('three more probes', () => (svc.service.health.report().dependencies[0]!.lastCheck?.getTime() ?? 0) > lastCheck + 2 * INTERVAL_MS, 5_000);
  expect(webhook.requests.map((r) => (JSON.parse(r.body) as { status: string }).status)).toEqual(['firing', 'resolved']);
  expect(JSON.parse(firing!.body)).toMatchObject({
    alert: 'DependencyDown',
    status: 'firing',
    service: 'coaching-service',
    environment: 'test',
    dependency: 'postgresql-primary',
    type: 'DATABASE',
    critical: true,
    consecutive_failures: ALERT_AFTER,
  });
  expect(JSON.parse(resolved!.body)).toMatchObject({ alert: 'DependencyDown', status: 'resolved', dependency: 'postgresql-primary' });
  expect(firing!.headers['content-type']).toBe('application/json');
  expect(readiness.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
  expect(liveness.statuses).toEqual(['SERVING']);

  const records = svc.logs.records();
  const alertLines = records.filter((r) => r.alert === 'DependencyDown');
  expect(alertLines.map((r) => [r.level, r.alertState])).toEqual([
    ['error', 'firing'],
    ['info', 'resolved'],
  ]);
  expect(alertLines.map((r) => r.module)).toEqual(['alerting', 'alerting']);
  // No line names a key twice (child loggers of child loggers would repeat "module").
  expect(svc.logs.lines.filter((line) => line.split('"module":').length > 2)).toEqual([]);
  // Transitions are logged once each, not once per failed probe.
  const transitions = records.filter((r) => r.module === 'health' && r.dependency === 'postgresql-primary' && r.from !== undefined);
  expect(transitions.map((r) => `${String(r.from)}->${String(r.to)}`)).toEqual(['UNKNOWN->HEALTHY', 'HEALTHY->UNHEALTHY', 'UNHEALTHY->HEALTHY']);
  // Every line logged while serving the failed call carries its correlation id.
  const failedCall = records.filter((r) => r.msg === 'database operation failed');
  expect(failedCall.length).toBeGreaterThan(0);
  expect(failedCall.every((r) => r.correlationId === 'outage-corr-1')).toBe(true);

  // The recognisable password appears nowhere: logs, webhook bodies, health API.
  expect(svc.logs.text()).not.toContain(PASSWORD);
  expect(webhook.requests.map((r) => r.body).join('\n')).not.toContain(PASSWORD);
  expect(JSON.stringify(GetHealthResponse.toJSON(during))).not.toContain(PASSWORD);

  const recoveredMetrics = await scrape(svc.service.metricsPort!);
  expect(sample(recoveredMetrics.text, 'coaching_health_dependency_up', { dependency: 'postgresql-primary' })).toBe(1);
  expect(sample(recoveredMetrics.text, 'coaching_health_alerts_total', { dependency: 'postgresql-primary', state: 'resolved' })).toBe(1);
  expect(sample(recoveredMetrics.text, 'coaching_health_alert_firing', { dependency: 'postgresql-primary' })).toBe(0);

  expect(Math.max(...getHealthMs)).toBeLessThan(500);
  expect(alertMs).toBeLessThan(ALERT_BOUND_MS);
  expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
  console.info(
    `outage timings (interval ${INTERVAL_MS} ms, failing interval ${FAILING_INTERVAL_MS} ms, ping timeout ${PING_TIMEOUT_MS} ms, alert after ${ALERT_AFTER}): ` +
      `detected ${detectedMs} ms, readiness NOT_SERVING ${notReadyMs} ms, alert POST ${alertMs} ms after stop (bound ${ALERT_BOUND_MS}); ` +
      `recovery POST ${recoveryMs} ms, readiness SERVING ${readyAgainMs} ms after restart (bound ${RECOVERY_BOUND_MS}); ` +
      `GetHealth max ${Math.round(Math.max(...getHealthMs))} ms over ${getHealthMs.length} calls`,
  );
  readiness.cancel();
  liveness.cancel();
  probes.close();
  health.client.close();
});

it('with the default probe timings and no traffic, alerts well within 2 minutes and recovers promptly', async () => {
  // Only the webhook is configured: interval, failing interval, ping timeout and N are the defaults.
  const defaultsHook = await startHttpStub('/defaults');
  const url = new URL(pg.adminUrl);
  url.pathname = '/coaching_outage';
  const config = loadConfig({ env: serviceEnv(url.toString(), { ALERT_WEBHOOK_URL: defaultsHook.url }) });
  expect([config.db.healthCheckIntervalMs, config.health.failingCheckIntervalMs, config.db.pingTimeoutMs, config.health.alertAfterFailures]).toEqual([
    30_000, 2_000, 5_000, 3,
  ]);
  const service = await startTestService(config);
  try {
    const statusOf = (i: number): string | undefined =>
      defaultsHook.requests[i] ? (JSON.parse(defaultsHook.requests[i].body) as { status: string }).status : undefined;
    const stoppedAt = Date.now();
    await pg.stopServer();
    // Idle, the outage shows at the next regular probe (≤ 30 s), then two re-probes 2 s apart.
    await waitFor('the alert', () => statusOf(0) === 'firing', 60_000, 100);
    const alertMs = defaultsHook.requests[0]!.at - stoppedAt;
    await pg.start();
    const restartedAt = Date.now();
    await waitFor('the recovery notice', () => statusOf(1) === 'resolved', 15_000, 100);
    const recoveryMs = defaultsHook.requests[1]!.at - restartedAt;
    expect(alertMs).toBeLessThan(30_000 + 3 * (2_000 + 5_000));
    // While failing the database is probed every 2 s (each probe bounded by 5 s).
    expect(recoveryMs).toBeLessThan(2_000 + 5_000);
    console.info(`default timings: alert POST ${alertMs} ms after stop, recovery POST ${recoveryMs} ms after restart`);
  } finally {
    await service.stop();
    await defaultsHook.close();
  }
});
