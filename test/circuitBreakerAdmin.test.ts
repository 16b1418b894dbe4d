import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { coachingApi } from './support/grpcClient';
import { check, healthApi, probeClient } from './support/healthClient';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

let db: TestDatabase;
let svc: TestService;

beforeAll(async () => {
  db = await createTestDatabase();
  svc = await startTestService(db.config({ DB_HEALTH_CHECK_INTERVAL: '200ms', HEALTH_FAILING_CHECK_INTERVAL: '200ms', DB_PING_TIMEOUT: '500ms' }));
});
afterAll(async () => {
  await svc.stop();
  await db.drop();
});

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${svc.service.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

it('an operator isolates and resets the database breaker with the admin RPCs; calls, readiness, GetHealth and metrics follow', async () => {
  const health = healthApi(svc.service.port);
  const probes = probeClient(svc.service.port);
  const api = coachingApi(svc.client);
  try {
    await waitFor('readiness SERVING', async () => (await check(probes, 'readiness')).status === 'SERVING');

    const isolated = await health.ok('isolateCircuitBreaker', { dependency: 'postgresql-primary' });
    expect(isolated).toEqual({ dependency: 'postgresql-primary', circuitState: 'isolated' });
    const refused = await api.call('getProfile', { id: randomUUID() });
    expect(refused.error?.code).toBe(status.UNAVAILABLE);
    expect(refused.error?.metadata.get('x-error-reason')).toEqual(['CIRCUIT_ISOLATED']);
    expect((await check(probes, 'readiness')).status).toBe('NOT_SERVING');
    expect((await check(probes, 'liveness')).status).toBe('SERVING');
    expect((await health.ok('getHealth', {})).dependencies.find((d) => d.name === 'postgresql-primary')?.circuitState).toBe('isolated');
    expect(await metric('coaching_circuit_breaker_state{dependency="postgresql-primary",state="isolated"}')).toMatch(/ 1$/);
    expect(svc.logs.records().some((r) => r.action === 'isolate' && r.dependency === 'postgresql-primary')).toBe(true);

    const reset = await health.ok('resetCircuitBreaker', { dependency: 'postgresql-primary' });
    expect(reset).toEqual({ dependency: 'postgresql-primary', circuitState: 'closed' });
    expect((await api.call('getProfile', { id: randomUUID() })).error?.code).toBe(status.NOT_FOUND);
    await waitFor('readiness SERVING again', async () => (await check(probes, 'readiness')).status === 'SERVING');
    expect(await metric('coaching_circuit_breaker_state{dependency="postgresql-primary",state="closed"}')).toMatch(/ 1$/);
  } finally {
    health.client.close();
    probes.close();
  }
});

it('names the field for an empty dependency and answers NOT_FOUND for one without a breaker', async () => {
  const health = healthApi(svc.service.port);
  try {
    const empty = await health.call('resetCircuitBreaker', { dependency: '' });
    expect(empty.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(empty.error?.details).toContain('dependency');
    const unknown = await health.call('isolateCircuitBreaker', { dependency: 'billing-api' });
    expect(unknown.error?.code).toBe(status.NOT_FOUND);
    // Nothing was isolated by the failed calls.
    expect((await health.ok('getHealth', {})).dependencies.find((d) => d.name === 'postgresql-primary')?.circuitState).toBe('closed');
  } finally {
    health.client.close();
  }
});
