import pino from 'pino';
import { createOutageAlerter } from '../src/alerting/createOutageAlerter';
import { createWebhookNotifier } from '../src/alerting/createWebhookNotifier';
import { DependencyMonitor } from '../src/health/DependencyMonitor';
import type { DependencyCheck, HealthStatus } from '../src/health/types';
import { startHttpStub, type HttpStub } from './support/httpStub';
import { LogCapture } from './support/testService';
import { waitFor } from './support/waitFor';

let stub: HttpStub;
beforeEach(async () => {
  stub = await startHttpStub('/alerts');
});
afterEach(async () => {
  await stub.close();
});

function notifier(overrides: { maxAttempts?: number; timeoutMs?: number } = {}) {
  const logs = new LogCapture();
  const outcomes: string[] = [];
  const webhook = createWebhookNotifier({
    url: stub.url,
    timeoutMs: overrides.timeoutMs ?? 1_000,
    maxAttempts: overrides.maxAttempts ?? 5,
    initialBackoffMs: 40,
    maxBackoffMs: 200,
    logger: pino({ level: 'debug' }, logs.stream),
    onAttempt: (outcome) => outcomes.push(outcome),
  });
  return { webhook, outcomes, logs };
}

describe('alert webhook', () => {
  it('retries server errors with backoff and delivers once', async () => {
    let calls = 0;
    stub.respond(() => ((calls += 1) <= 2 ? { status: 503 } : { status: 202 }));
    const { webhook, outcomes } = notifier();
    webhook.send({ alert: 'DependencyDown', status: 'firing' });
    await waitFor('delivery', () => outcomes.includes('delivered'));
    expect(outcomes).toEqual(['retried', 'retried', 'delivered']);
    expect(stub.requests.map((r) => [r.method, r.headers['content-type'], JSON.parse(r.body)])).toEqual(
      Array.from({ length: 3 }, () => ['POST', 'application/json', { alert: 'DependencyDown', status: 'firing' }]),
    );
    const gaps = stub.requests.slice(1).map((r, i) => r.at - stub.requests[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(20 - 2); // half of the 40 ms first backoff, at least
    webhook.close();
  });

  it('gives up after the bounded number of attempts, and does not retry a client error', async () => {
    stub.respond({ status: 500 });
    const failing = notifier({ maxAttempts: 3 });
    failing.webhook.send({ alert: 'DependencyDown', status: 'firing' });
    await waitFor('giving up', () => failing.outcomes.includes('failed'));
    expect(failing.outcomes).toEqual(['retried', 'retried', 'failed']);
    expect(stub.requests).toHaveLength(3);
    expect(failing.logs.records().at(-1)).toMatchObject({ level: 50, msg: 'alert webhook not delivered; giving up', problem: 'HTTP 500' });

    stub.respond({ status: 400 });
    const rejected = notifier();
    rejected.webhook.send({ alert: 'DependencyDown', status: 'firing' });
    await waitFor('giving up', () => rejected.outcomes.includes('failed'));
    expect(rejected.outcomes).toEqual(['failed']);
    expect(stub.requests).toHaveLength(4);
  });

  it('never blocks the caller, times out a hanging receiver, and keeps firing before resolved', async () => {
    stub.respond('hang');
    const { webhook, outcomes } = notifier({ timeoutMs: 150 });
    const started = performance.now();
    webhook.send({ alert: 'DependencyDown', status: 'firing' });
    webhook.send({ alert: 'DependencyDown', status: 'resolved' });
    expect(performance.now() - started).toBeLessThan(20);
    await waitFor('a retry after the timeout', () => outcomes.includes('retried'));
    stub.respond({ status: 200 });
    await waitFor('both delivered', () => outcomes.filter((o) => o === 'delivered').length === 2);
    const order = stub.requests.map((r) => (JSON.parse(r.body) as { status: string }).status);
    expect(order.lastIndexOf('firing')).toBeLessThan(order.indexOf('resolved'));
    expect(order.filter((s) => s === 'resolved')).toHaveLength(1);
    webhook.close();
  });
});

describe('outage alerts', () => {
  /** A dependency whose probes follow a script, then stay healthy. */
  function scripted(statuses: HealthStatus[], critical = true): DependencyCheck & { done: () => boolean } {
    let i = 0;
    return {
      name: critical ? 'ledger-service' : 'billing-api',
      type: 'GRPC_SERVICE',
      critical,
      endpoint: { hostname: 'ledger', port: 50051, protocol: 'grpc' },
      intervalMs: 5,
      timeoutMs: 1_000,
      probe: () => {
        const status = statuses[i] ?? 'HEALTHY';
        i += 1;
        return Promise.resolve(
          status === 'HEALTHY' ? { status, message: 'ok' } : { status, message: 'down', errorCode: 'GRPC_UNAVAILABLE', error: 'connection refused' },
        );
      },
      done: () => i > statuses.length,
    };
  }

  async function run(statuses: HealthStatus[], critical = true) {
    const logs = new LogCapture();
    const counted: string[] = [];
    const alerter = createOutageAlerter({
      threshold: 3,
      environment: 'test',
      logger: pino({ level: 'info' }, logs.stream),
      countAlert: (dependency, state) => counted.push(`${dependency}:${state}`),
      webhook: createWebhookNotifier({ url: stub.url, timeoutMs: 1_000, maxAttempts: 2, logger: pino({ level: 'silent' }) }),
    });
    const check = scripted(statuses, critical);
    const errors: unknown[] = [];
    const monitor = new DependencyMonitor(check, {
      failingIntervalMs: 5,
      sanitize: (t) => t,
      onProbe: (record) => alerter.observe(record),
      onError: (error) => errors.push(error),
    });
    await monitor.start();
    await waitFor('the script to finish', () => check.done());
    monitor.stop();
    expect(errors).toEqual([]);
    return { counted, lines: logs.records().filter((r) => r.alert === 'DependencyDown') };
  }

  it('alerts once per outage of at least N failures, ignores shorter blips, and resolves once', async () => {
    const U: HealthStatus = 'UNHEALTHY';
    const H: HealthStatus = 'HEALTHY';
    const { counted, lines } = await run([U, U, H, U, U, U, U, U, U, H, H, U, H, U, U, U, H]);
    expect(counted).toEqual(['ledger-service:firing', 'ledger-service:resolved', 'ledger-service:firing', 'ledger-service:resolved']);
    expect(lines.map((l) => [l.alertState, l.consecutiveFailures ?? l.downForMs !== undefined])).toEqual([
      ['firing', 3],
      ['resolved', true],
      ['firing', 3],
      ['resolved', true],
    ]);
    await waitFor('four webhook POSTs', () => stub.requests.length === 4);
  });

  it('does not alert for a non-critical dependency', async () => {
    const { counted, lines } = await run(Array<HealthStatus>(6).fill('UNHEALTHY'), false);
    expect(counted).toEqual([]);
    expect(lines).toEqual([]);
    expect(stub.requests).toEqual([]);
  });
});
