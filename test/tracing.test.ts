import { randomBytes } from 'node:crypto';
import { Server, ServerCredentials, ServerInterceptingCall, status } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { Role } from '../src/generated/coaching/v1/profile';
import { DATABASE_DEPENDENCY_NAME } from '../src/config/healthDependencies';
import { adminApi } from './support/adminClient';
import { coachingApi } from './support/grpcClient';
import { healthApi } from './support/healthClient';
import { startHttpStub, type HttpStub } from './support/httpStub';
import { OtlpReceiver, type ReceivedSpan } from './support/otlpReceiver';
import { newProfile } from './support/profiles';
import { useHarness } from './support/harness';
import { adminQuery, type TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const newTraceId = (): string => randomBytes(16).toString('hex');
const newSpanId = (): string => randomBytes(8).toString('hex');

let db: TestDatabase;
let receiver: OtlpReceiver;

const h = useHarness({ service: false });
beforeAll(async () => {
  ({ db } = h);
  receiver = await OtlpReceiver.start();
});
afterAll(async () => {
  await receiver?.stop();
});

async function withService(env: Record<string, string>, body: (svc: TestService, api: ReturnType<typeof coachingApi>) => Promise<void>): Promise<void> {
  const svc = await startTestService(db.config(env));
  try {
    await body(svc, coachingApi(svc.client));
  } finally {
    await svc.stop();
  }
}

const childrenOf = (spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] => spans.filter((s) => s.parentSpanId === parent.spanId);

describe('tracing over OTLP/gRPC', () => {
  let stub: HttpStub;
  beforeAll(async () => {
    stub = await startHttpStub('/healthz');
  });
  afterAll(async () => {
    await stub.close();
  });

  it('continues the caller trace into the server span, every attempt, transaction, statement and pool wait; the same id in logs and metadata', async () => {
    const env = {
      ...receiver.env('grpc'),
      OTEL_SERVICE_NAME: 'coaching-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=coaching%20platform',
      HEALTH_DEPENDENCIES: JSON.stringify([{ name: 'billing-api', type: 'HTTP_SERVICE', url: `${stub.url}/healthz`, critical: false }]),
    };
    await withService(env, async (svc, api) => {
      const traceId = newTraceId();
      const callerSpan = newSpanId();
      const profile = newProfile({ role: Role.ROLE_COACH, bio: 'Secret-Bio-Value' });
      const created = await api.call(
        'createProfile',
        { requestId: '', profile },
        { metadata: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'caller=1', baggage: 'tenant=acme' } },
      );
      expect(created.error).toBeUndefined();
      // The trace id comes back in the response headers, and is the correlation id (none was sent).
      expect(created.headers?.get('x-trace-id')).toEqual([traceId]);
      expect(created.headers?.get('x-request-id')).toEqual([traceId]);

      // Children end (and are queued for export) before their parent: with the server span, the whole trace is there.
      const spans = await waitFor('the CreateProfile trace', () => receiver.trace(traceId).some((s) => s.kind === SERVER) && receiver.trace(traceId));
      const server = spans.find((s) => s.kind === SERVER)!;
      expect(server).toMatchObject({
        name: 'coaching.v1.CoachingService/CreateProfile',
        parentSpanId: callerSpan,
        attributes: { 'rpc.system': 'grpc', 'rpc.service': 'coaching.v1.CoachingService', 'rpc.method': 'CreateProfile', 'rpc.grpc.status_code': 0 },
        status: { code: 0 },
      });
      expect(server.resource).toMatchObject({ 'service.name': 'coaching-under-test', 'deployment.environment': 'test', team: 'coaching platform' });

      const attempts = childrenOf(spans, server);
      expect(attempts.map((s) => s.name)).toEqual(['db.attempt profiles.create']);
      expect(attempts[0]!.attributes).toMatchObject({ 'db.attempt': 1 });
      const [transaction] = childrenOf(spans, attempts[0]!);
      expect(transaction).toMatchObject({ name: 'db.transaction', attributes: { 'db.system': 'postgresql' } });
      const inside = childrenOf(spans, transaction!);
      const statements = inside.filter((s) => s.kind === CLIENT);
      expect(statements.length).toBeGreaterThanOrEqual(1);
      expect(statements.map((s) => s.attributes['db.operation.name'])).toContain('INSERT');
      for (const statement of statements) {
        expect(statement.attributes).toMatchObject({ 'db.system': 'postgresql', 'db.namespace': svc.service.configInForce().db.name });
        const text = String(statement.attributes['db.query.text']);
        expect(text.length).toBeGreaterThan(0);
        // Parameters, never values.
        for (const value of [profile.email, 'Secret-Bio-Value', 'coaching-under-test']) expect(text).not.toContain(value);
        expect(statement.startNanos).toBeGreaterThanOrEqual(transaction!.startNanos);
        expect(statement.endNanos).toBeLessThanOrEqual(transaction!.endNanos);
      }
      expect(inside.filter((s) => s.name === 'db.pool.acquire')).toHaveLength(1);

      // Every line of the call: its trace id, and a span id; the correlation id is the trace id.
      const lines = svc.logs.records().filter((r) => r.correlationId === traceId);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line.trace_id).toBe(traceId);
        expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
      }
      expect(lines.find((l) => l.msg === 'rpc finished')?.span_id).toBe(server.spanId);
      // No line of another trace carries this id.
      expect(svc.logs.records().filter((r) => r.trace_id === traceId && r.correlationId !== traceId)).toEqual([]);

      // Probes are root spans of their own traces, and the HTTP probe sent its trace context upstream.
      const probe = await waitFor('a billing-api probe span', () => receiver.spans.find((s) => s.name === 'health.probe billing-api'));
      expect(probe.parentSpanId).toBe('');
      expect(probe.traceId).not.toBe(traceId);
      const databaseProbe = await waitFor('a database probe span', () => receiver.spans.find((s) => s.name === `health.probe ${DATABASE_DEPENDENCY_NAME}`));
      expect(databaseProbe.parentSpanId).toBe('');
      const sent = stub.requests.map((r) => r.headers.traceparent).filter((h): h is string => typeof h === 'string');
      expect(sent.map((h) => h.split('-')[1])).toContain(probe.traceId);
    });
  });

  it('a caller id stays the correlation id; the latency histogram carries the trace id as an exemplar in OpenMetrics', async () => {
    await withService(receiver.env('grpc'), async (svc, api) => {
      const traceId = newTraceId();
      const result = await api.call(
        'listProfiles',
        { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
        {
          metadata: { traceparent: `00-${traceId}-${newSpanId()}-01`, 'x-request-id': 'my-id-1' },
        },
      );
      expect(result.error).toBeUndefined();
      expect(result.headers?.get('x-request-id')).toEqual(['my-id-1']);
      expect(result.headers?.get('x-trace-id')).toEqual([traceId]);
      const line = svc.logs.records().find((r) => r.correlationId === 'my-id-1' && r.msg === 'rpc finished');
      expect(line?.trace_id).toBe(traceId);

      const url = `http://127.0.0.1:${svc.service.metricsPort}/metrics`;
      const open = await fetch(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      expect(open.headers.get('content-type')).toContain('application/openmetrics-text');
      const text = await open.text();
      expect(text).toMatch(new RegExp(`grpc_server_handling_seconds_bucket\\{[^}]*grpc_method="ListProfiles"[^}]*\\} \\d+ # \\{trace_id="${traceId}"\\}`));
      expect(text.trimEnd().endsWith('# EOF')).toBe(true);
      // The Prometheus text format stays as it was: no exemplars, counters keep their _total names.
      const plain = await (await fetch(url)).text();
      expect(plain).not.toContain(traceId);
      expect(plain).toContain('# TYPE grpc_server_handled_total counter');
      expect(plain).toContain('coaching_tracing_spans_exported_total');
    });
  });

  it('admin calls are server spans too, and their audit lines carry the trace id', async () => {
    await withService(receiver.env('grpc'), async (svc) => {
      const admin = adminApi(svc.service.adminPort!);
      try {
        const traceId = newTraceId();
        const result = await admin.call(
          'resetCircuitBreaker',
          { dependency: 'postgresql-primary', reason: 'trace test' },
          {
            metadata: { traceparent: `00-${traceId}-${newSpanId()}-01` },
          },
        );
        expect(result.error).toBeUndefined();
        const span = await waitFor('the ResetCircuitBreaker span', () => receiver.trace(traceId).find((s) => s.kind === SERVER));
        expect(span.attributes).toMatchObject({ 'rpc.service': 'coaching.admin.v1.AdminService', 'rpc.method': 'ResetCircuitBreaker' });
        const audit = svc.logs.records().find((r) => r.audit === true && r.action === 'reset');
        expect(audit).toMatchObject({ trace_id: traceId, span_id: span.spanId });
      } finally {
        admin.client.close();
      }
    });
  });

  it('a failed call: status code, error type and an ERROR status for server faults; the trace id in the trailers', async () => {
    await withService(receiver.env('grpc'), async (svc, api) => {
      const invalid = newTraceId();
      const refused = await api.call('getProfile', { id: 'not-a-uuid' }, { metadata: { traceparent: `00-${invalid}-${newSpanId()}-01` } });
      expect(refused.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(refused.error?.metadata.get('x-trace-id')).toEqual([invalid]);
      const invalidSpan = await waitFor('the GetProfile span', () => receiver.trace(invalid).find((s) => s.kind === SERVER));
      expect(invalidSpan.attributes).toMatchObject({ 'rpc.grpc.status_code': status.INVALID_ARGUMENT, 'error.type': 'INVALID_ARGUMENT' });
      // A client mistake is not a server error (OpenTelemetry gRPC conventions).
      expect(invalidSpan.status.code).toBe(0);
      // Refused before any database work: no attempt span.
      expect(receiver.trace(invalid)).toHaveLength(1);

      svc.service.policy.isolate();
      try {
        const down = newTraceId();
        const unavailable = await api.call(
          'listProfiles',
          { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
          {
            metadata: { traceparent: `00-${down}-${newSpanId()}-01` },
          },
        );
        expect(unavailable.error?.code).toBe(status.UNAVAILABLE);
        const span = await waitFor('the ListProfiles span', () => receiver.trace(down).find((s) => s.kind === SERVER));
        expect(span.status.code).toBe(ERROR);
        expect(span.attributes['rpc.grpc.status_code']).toBe(status.UNAVAILABLE);
        // The breaker refused the work: an event on the server span, and no attempt span.
        expect(span.events.find((e) => e.name === 'db.rejected')?.attributes).toMatchObject({ 'db.operation': 'profiles.list' });
        expect(receiver.trace(down).filter((s) => s.name.startsWith('db.attempt'))).toEqual([]);
      } finally {
        svc.service.policy.reset();
      }
    });
  });

  it('work spent in retries shows as separate attempt spans, with the backoff as events on the server span', async () => {
    await withService({ ...receiver.env('grpc'), DB_RETRY_MAX_ATTEMPTS: '2', DB_RETRY_INITIAL_DELAY_MS: '20', DB_CONNECT_TIMEOUT: '2' }, async (_svc, api) => {
      // The database takes no new connection, and the open ones are gone: every attempt fails before any work.
      await adminQuery(`alter database ${db.name} with allow_connections false`);
      try {
        await adminQuery('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [db.name]);
        const traceId = newTraceId();
        const failed = await api.call(
          'listProfiles',
          { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
          {
            metadata: { traceparent: `00-${traceId}-${newSpanId()}-01` },
          },
        );
        expect(failed.error?.code).toBe(status.UNAVAILABLE);
        const spans = await waitFor('the failed ListProfiles trace', () => receiver.trace(traceId).some((s) => s.kind === SERVER) && receiver.trace(traceId));
        const server = spans.find((s) => s.kind === SERVER)!;
        const attempts = childrenOf(spans, server).filter((s) => s.name === 'db.attempt profiles.list');
        expect(attempts.map((s) => s.attributes['db.attempt'])).toEqual([1, 2, 3]);
        for (const attempt of attempts) expect(attempt.status.code).toBe(ERROR);
        const retries = server.events.filter((e) => e.name === 'db.retry');
        expect(retries.map((e) => e.attributes['retry.attempt'])).toEqual([2, 3]);
        for (const retry of retries) {
          expect(retry.attributes).toMatchObject({ 'db.operation': 'profiles.list', 'retry.reason': 'DATABASE_UNAVAILABLE' });
          expect(Number(retry.attributes['retry.backoff_ms'])).toBeGreaterThanOrEqual(0);
        }
        expect(server.status.code).toBe(ERROR);
      } finally {
        await adminQuery(`alter database ${db.name} with allow_connections true`);
      }
    });
  });

  it('a collector that hangs or refuses costs the RPCs nothing: they succeed, spans are dropped and counted, GetHealth shows it as non-critical', async () => {
    receiver.mode = 'hang';
    const env = {
      ...receiver.env('grpc'),
      OTEL_BSP_MAX_QUEUE_SIZE: '4',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
      OTEL_EXPORTER_OTLP_TIMEOUT: '300',
      DB_HEALTH_CHECK_INTERVAL: '200ms',
      HEALTH_FAILING_CHECK_INTERVAL: '200ms',
    };
    try {
      await withService(env, async (svc, api) => {
        for (let i = 0; i < 30; i++) {
          const started = performance.now();
          const result = await api.call('listProfiles', { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED }, { deadlineMs: 5000 });
          expect(result.error).toBeUndefined();
          // Generous: a hung export (300 ms timeout) never sits on the call path.
          expect(performance.now() - started).toBeLessThan(3000);
        }
        const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${svc.service.metricsPort}/metrics`)).text();
        await waitFor('spans dropped at the queue bound', async () =>
          /coaching_tracing_spans_dropped_total\{reason="queue-full"\} [1-9]/.test(await metrics()),
        );

        receiver.mode = 'refuse';
        const health = healthApi(svc.service.port);
        try {
          const collector = await waitFor('otel-collector UNHEALTHY in GetHealth', async () => {
            const report = await health.ok('getHealth', {});
            const dep = report.dependencies.find((d) => d.name === 'otel-collector');
            return dep?.status === ServiceStatus.SERVICE_STATUS_UNHEALTHY && dep;
          });
          expect(collector.isCritical).toBe(false);
          expect(collector.config?.protocol).toBe('otlp/grpc');
          // Readiness does not depend on it.
          expect(svc.service.readiness.ready).toBe(true);
        } finally {
          health.client.close();
        }
        await waitFor('spans counted as export-failed', async () =>
          /coaching_tracing_spans_dropped_total\{reason="export-failed"\} [1-9]/.test(await metrics()),
        );
        const still = await api.call('listProfiles', { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED });
        expect(still.error).toBeUndefined();
      });
    } finally {
      receiver.recover();
    }
  });
});

describe('trace context on outgoing calls', () => {
  it('gRPC upstream probes and alert webhooks send traceparent from spans of their own', async () => {
    const seen: string[] = [];
    const upstream = new Server({
      interceptors: [
        (_method, call) =>
          new ServerInterceptingCall(call, {
            start: (next) =>
              next({
                onReceiveMetadata: (metadata, forward) => {
                  const header = metadata.get('traceparent')[0];
                  if (typeof header === 'string') seen.push(header);
                  forward(metadata);
                },
              }),
          }),
      ],
    });
    new HealthImplementation({ '': 'SERVING' }).addToServer(upstream);
    const port = await new Promise<number>((resolve, reject) =>
      upstream.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const failing = await startHttpStub('/healthz');
    failing.respond({ status: 500 });
    const hook = await startHttpStub('/hook');
    try {
      const env = {
        ...receiver.env('grpc'),
        HEALTH_DEPENDENCIES: JSON.stringify([
          { name: 'ledger-service', type: 'GRPC_SERVICE', target: `127.0.0.1:${port}` },
          { name: 'payments-api', type: 'HTTP_SERVICE', url: `${failing.url}/healthz`, critical: true },
        ]),
        HEALTH_ALERT_AFTER_FAILURES: '1',
        ALERT_WEBHOOK_URL: `${hook.url}/hook`,
      };
      await withService(env, async () => {
        const probe = await waitFor('a ledger-service probe span', () => receiver.spans.find((s) => s.name === 'health.probe ledger-service'));
        expect(probe.parentSpanId).toBe('');
        expect(seen.map((h) => h.split('-')[1])).toContain(probe.traceId);

        const delivered = await waitFor('the alert webhook with a traceparent', () => hook.requests.find((r) => typeof r.headers.traceparent === 'string'));
        const [, traceId, spanId] = String(delivered.headers.traceparent).split('-');
        const span = await waitFor('the webhook client span', () => receiver.spans.find((s) => s.spanId === spanId));
        expect(span).toMatchObject({ name: 'alert.webhook POST', kind: CLIENT, traceId });
        expect(span.attributes).toMatchObject({ 'http.request.method': 'POST', 'alert.attempt': 1 });
      });
    } finally {
      upstream.forceShutdown();
      await failing.close();
      await hook.close();
    }
  });
});

describe.each(['http/protobuf', 'http/json'] as const)('tracing over OTLP %s', (protocol) => {
  it('exports the server span and its statements', async () => {
    await withService(receiver.env(protocol), async (_svc, api) => {
      const traceId = newTraceId();
      const result = await api.call(
        'listProfiles',
        { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
        {
          metadata: { traceparent: `00-${traceId}-${newSpanId()}-01` },
        },
      );
      expect(result.error).toBeUndefined();
      const spans = await waitFor('the ListProfiles trace', () => {
        const trace = receiver.trace(traceId);
        return trace.some((s) => s.kind === SERVER) && trace.some((s) => s.kind === CLIENT) && trace;
      });
      const server = spans.find((s) => s.kind === SERVER)!;
      expect(server.attributes).toMatchObject({ 'rpc.method': 'ListProfiles', 'rpc.grpc.status_code': 0 });
      expect(server.resource['service.name']).toBe('coaching-service');
      const attempt = childrenOf(spans, server)[0]!;
      expect(childrenOf(spans, attempt).some((s) => s.attributes['db.system'] === 'postgresql')).toBe(true);
    });
  });
});

describe('tracing off', () => {
  it.each([
    ['OTEL_SDK_DISABLED=true', { OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', { OTEL_TRACES_EXPORTER: 'none' }],
  ])('%s: nothing is exported, no trace id is returned or logged', async (_name, off) => {
    const before = receiver.requests;
    const spansBefore = receiver.spans.length;
    const traceId = newTraceId();
    await withService({ ...receiver.env('grpc'), ...off }, async (svc, api) => {
      const result = await api.call(
        'listProfiles',
        { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
        {
          metadata: { traceparent: `00-${traceId}-${newSpanId()}-01` },
        },
      );
      expect(result.error).toBeUndefined();
      expect(result.headers?.get('x-trace-id')).toEqual([]);
      expect(svc.logs.records().filter((r) => 'trace_id' in r)).toEqual([]);
      expect(svc.logs.text()).not.toContain(traceId);
    });
    // Stopped (a running exporter would have flushed on shutdown): still nothing.
    expect(receiver.requests).toBe(before);
    expect(receiver.spans.length).toBe(spansBefore);
  });

  it('without an endpoint, tracing stays off', async () => {
    await withService({}, async (svc, api) => {
      expect(svc.service.configInForce().tracing.enabled).toBe(false);
      const result = await api.call('listProfiles', { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED });
      expect(result.headers?.get('x-trace-id')).toEqual([]);
    });
  });
});
