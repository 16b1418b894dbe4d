import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { CircuitState, type ResetCircuitBreakerRequest } from '../src/generated/coaching/admin/v1/admin_service';
import { adminApi } from './support/adminClient';
import { coachingApi } from './support/grpcClient';
import { check, healthApi, probeClient } from './support/healthClient';
import { useHarness } from './support/harness';
import { ms, ts } from './support/timestamps';
import { waitFor } from './support/waitFor';

const h = useHarness({ env: { DB_HEALTH_CHECK_INTERVAL: '200ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '500ms' } });

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${h.svc.service.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

const audits = (action: string) => h.svc.logs.records().filter((r) => r.audit === true && r.action === action);

it('an operator isolates and resets the database breaker on the admin listener; calls, readiness, GetHealth, metrics and the audit follow', async () => {
  const admin = adminApi(h.svc.service.adminPort!);
  const health = healthApi(h.svc.service.port);
  const probes = probeClient(h.svc.service.port);
  const api = coachingApi(h.svc.client);
  try {
    await waitFor('readiness SERVING', async () => (await check(probes, 'readiness')).status === 'SERVING');

    const isolated = await admin.ok('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: 'planned failover' });
    expect(isolated.previousState).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
    expect(isolated.circuitBreaker).toMatchObject({
      dependency: 'postgresql-primary',
      state: CircuitState.CIRCUIT_STATE_ISOLATED,
      expireTime: undefined,
      isolationReason: 'planned failover',
    });
    const refused = await api.call('getProfile', { id: randomUUID() });
    expect(refused.error?.code).toBe(status.UNAVAILABLE);
    expect(refused.error?.metadata.get('x-error-reason')).toEqual(['CIRCUIT_ISOLATED']);
    expect((await check(probes, 'readiness')).status).toBe('NOT_SERVING');
    expect((await check(probes, 'liveness')).status).toBe('SERVING');
    expect((await health.ok('getHealth', {})).dependencies.find((d) => d.name === 'postgresql-primary')?.circuitState).toBe('isolated');
    expect(await metric('coaching_circuit_breaker_state{dependency="postgresql-primary",state="isolated"}')).toMatch(/ 1$/);
    expect((await admin.ok('listCircuitBreakers', {})).circuitBreakers).toEqual([
      expect.objectContaining({ dependency: 'postgresql-primary', state: CircuitState.CIRCUIT_STATE_ISOLATED, isolationReason: 'planned failover' }),
    ]);

    // The audit: who (peer, no certificate, no token), what, before and after.
    expect(audits('isolate')).toEqual([
      expect.objectContaining({
        outcome: 'ok',
        target: 'postgresql-primary',
        before: 'closed',
        after: 'isolated',
        reason: 'planned failover',
        peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        certificateSubject: null,
        tokenPresented: false,
      }),
    ]);
    expect(
      await metric('coaching_admin_actions_total{action="isolate",target="postgresql-primary",outcome="ok",from_state="closed",to_state="isolated"}'),
    ).toMatch(/ 1$/);

    const reset = await admin.ok('resetCircuitBreaker', { dependency: 'postgresql-primary', reason: '' });
    expect(reset).toEqual({
      circuitBreaker: {
        dependency: 'postgresql-primary',
        state: CircuitState.CIRCUIT_STATE_CLOSED,
        isolateTime: undefined,
        expireTime: undefined,
        isolationReason: '',
      },
      previousState: CircuitState.CIRCUIT_STATE_ISOLATED,
    });
    expect((await api.call('getProfile', { id: randomUUID() })).error?.code).toBe(status.NOT_FOUND);
    await waitFor('readiness SERVING again', async () => (await check(probes, 'readiness')).status === 'SERVING');
    expect(await metric('coaching_circuit_breaker_state{dependency="postgresql-primary",state="closed"}')).toMatch(/ 1$/);
    expect(audits('reset')).toEqual([expect.objectContaining({ outcome: 'ok', before: 'isolated', after: 'closed' })]);
  } finally {
    admin.client.close();
    health.client.close();
    probes.close();
  }
});

it('an isolation with a ttl ends by itself, audited as an action of the service itself', async () => {
  const admin = adminApi(h.svc.service.adminPort!);
  const probes = probeClient(h.svc.service.port);
  try {
    const started = Date.now();
    const isolated = await admin.ok('isolateCircuitBreaker', { dependency: 'postgresql-primary', ttl: { seconds: '1', nanos: 500_000_000 }, reason: '' });
    const expireAt = ms(isolated.circuitBreaker!.expireTime);
    expect(expireAt).toBeGreaterThanOrEqual(started + 1500);
    expect(expireAt).toBeLessThan(Date.now() + 1500 + 1000);
    expect((await check(probes, 'readiness')).status).toBe('NOT_SERVING');
    await waitFor('the isolation to expire', async () =>
      (await admin.ok('listCircuitBreakers', {})).circuitBreakers[0]?.state === CircuitState.CIRCUIT_STATE_CLOSED ? true : undefined,
    );
    // It did not end before its time.
    expect(Date.now()).toBeGreaterThanOrEqual(expireAt);
    expect(audits('isolation-expired')).toEqual([
      expect.objectContaining({ by: 'service', target: 'postgresql-primary', before: 'isolated', after: 'closed' }),
    ]);
    await waitFor('readiness SERVING after the expiry', async () => (await check(probes, 'readiness')).status === 'SERVING');

    // An expire_time works the same; a reset before it cancels the timer.
    await admin.ok('isolateCircuitBreaker', { dependency: 'postgresql-primary', expireTime: ts(Date.now() + 60_000), reason: '' });
    await admin.ok('resetCircuitBreaker', { dependency: 'postgresql-primary', reason: 'done early' });
    expect((await admin.ok('listCircuitBreakers', {})).circuitBreakers[0]).toMatchObject({ state: CircuitState.CIRCUIT_STATE_CLOSED, expireTime: undefined });
  } finally {
    admin.client.close();
    probes.close();
  }
});

it('names the field of every invalid request, answers NOT_FOUND for an unknown breaker, and changes nothing', async () => {
  const admin = adminApi(h.svc.service.adminPort!);
  try {
    const cases: [ResetCircuitBreakerRequest, string][] = [
      [{ dependency: '', reason: '' }, 'dependency'],
      [{ dependency: 'Postgresql Primary!', reason: '' }, 'dependency'],
      [{ dependency: 'postgresql-primary', reason: 'x'.repeat(257) }, 'reason'],
      [{ dependency: 'postgresql-primary', reason: 'two\nlines' }, 'reason'],
    ];
    for (const [request, field] of cases) {
      const result = await admin.call('resetCircuitBreaker', request);
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error?.details).toContain(field);
    }
    for (const [expiration, field] of [
      [{ ttl: { seconds: '0', nanos: 0 } }, 'ttl'],
      [{ ttl: { seconds: '-5', nanos: 0 } }, 'ttl'],
      [{ ttl: { seconds: String(8 * 24 * 3600), nanos: 0 } }, 'ttl'],
      [{ expireTime: ts(Date.now() - 1000) }, 'expire_time'],
      [{ expireTime: ts(Date.now() + 8 * 24 * 3600 * 1000) }, 'expire_time'],
    ] as const) {
      const result = await admin.call('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: '', ...expiration });
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error?.details).toContain(field);
    }
    const unknown = await admin.call('isolateCircuitBreaker', { dependency: 'billing-api', reason: '' });
    expect(unknown.error?.code).toBe(status.NOT_FOUND);
    // Nothing was isolated by the failed calls; each was audited as failed. A name this service does not
    // know never becomes a metric label (target "none"), so requests cannot inflate the metric's series.
    expect((await admin.ok('listCircuitBreakers', {})).circuitBreakers[0]?.state).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
    expect(
      audits('isolate')
        .filter((r) => r.outcome === 'failed')
        .map((r) => r.errorReason),
    ).toEqual([...Array(5).fill('INVALID_ARGUMENT'), 'NOT_FOUND']);
    expect(await metric('coaching_admin_actions_total{action="isolate",target="postgresql-primary",outcome="failed"')).toMatch(/ 5$/);
    expect(await metric('coaching_admin_actions_total{action="isolate",target="none",outcome="failed"')).toMatch(/ 1$/);
    expect(await metric('coaching_admin_actions_total{action="reset",target="none",outcome="failed"')).toMatch(/ 2$/);
  } finally {
    admin.client.close();
  }
});

it('the public port answers the deprecated HealthService admin RPCs UNIMPLEMENTED, pointing to the admin listener, and acts on nothing', async () => {
  const health = healthApi(h.svc.service.port);
  try {
    for (const method of ['isolateCircuitBreaker', 'resetCircuitBreaker'] as const) {
      const result = await health.call(method, { dependency: 'postgresql-primary' });
      expect(result.error?.code).toBe(status.UNIMPLEMENTED);
      expect(result.error?.details).toMatch(/coaching\.admin\.v1\.AdminService\/(Isolate|Reset)CircuitBreaker on the admin listener .*127\.0\.0\.1:50052/);
      expect(result.error?.metadata.get('x-error-reason')).toEqual(['MOVED_TO_ADMIN_LISTENER']);
    }
    expect((await health.ok('getHealth', {})).dependencies.find((d) => d.name === 'postgresql-primary')?.circuitState).toBe('closed');
    // The admin service is not served, nor listed, on the public port.
    const onPublic = adminApi(h.svc.service.port);
    expect((await onPublic.call('listCircuitBreakers', {})).error?.code).toBe(status.UNIMPLEMENTED);
    onPublic.client.close();
  } finally {
    health.client.close();
  }
});
