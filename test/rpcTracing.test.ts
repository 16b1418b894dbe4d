/**
 * The RPC tracer's own sampling of new root traces (src/tracing/rpcTracing.ts):
 * the real trace SDK, its ratio sampler and an in-memory exporter, and real
 * gRPC metadata. The end-to-end tracing tests (test/tracing.test.ts) send a
 * sampled traceparent on every call; these cover the calls without one.
 */
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { Metadata, status } from '@grpc/grpc-js';
import { createRpcTracer } from '../src/tracing/rpcTracing';
import { TraceIds } from '../src/tracing/TraceIds';

const RATIO = 0.5;
const CALLS = 400;

const exporter = new InMemorySpanExporter();
const roots = { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(RATIO) }), ids: new TraceIds() };
const provider = new TracerProvider({ sampler: roots.sampler, idGenerator: roots.ids, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const propagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
const tracer = createRpcTracer(provider.getTracer('test'), propagator, roots, 'coaching.v1.CoachingService');
/** The decision a ratio sampler makes on a trace id, on its own. */
const ratioSamples = (traceId: string): boolean =>
  new TraceIdRatioBasedSampler(RATIO).shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;

const metadata = (headers: Record<string, string> = {}): Metadata => {
  const m = new Metadata();
  for (const [key, value] of Object.entries(headers)) m.set(key, value);
  return m;
};

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(async () => {
  context.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

describe('server spans of calls without a caller trace', () => {
  it('samples each new trace once, on the id it keeps: a kept call is exported under its trace id, a dropped one is not', () => {
    const calls = Array.from({ length: CALLS }, () => {
      const call = tracer.start('GetProfile', metadata());
      call.end(status.OK);
      return call;
    });
    const exported = new Map(exporter.getFinishedSpans().map((span) => [span.spanContext().traceId, span]));
    for (const call of calls) {
      expect(call.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(call.spanId).toMatch(/^[0-9a-f]{16}$/);
      // Deciding twice on two ids would keep only ratio² of the calls, and some calls' flags would disagree with their id.
      expect(call.sampled).toBe(ratioSamples(call.traceId));
      const span = exported.get(call.traceId);
      if (call.sampled) {
        expect(span?.spanContext().spanId).toBe(call.spanId);
        expect(span?.parentSpanContext).toBeUndefined();
        expect(span?.name).toBe('coaching.v1.CoachingService/GetProfile');
        expect(span?.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.method': 'GetProfile', 'rpc.grpc.status_code': status.OK });
      } else {
        expect(span).toBeUndefined();
      }
    }
    const kept = calls.filter((c) => c.sampled).length;
    expect(exported.size).toBe(kept);
    // Six standard deviations either side of CALLS × RATIO.
    expect(kept).toBeGreaterThan(CALLS * RATIO - 60);
    expect(kept).toBeLessThan(CALLS * RATIO + 60);
    expect(new Set(calls.map((c) => c.traceId)).size).toBe(CALLS);
  });

  it('a dropped call still runs under its trace (ids, baggage), records nothing, and its children record nothing', async () => {
    let call = tracer.start('GetProfile', metadata({ baggage: 'tenant=acme' }));
    while (call.sampled) call = tracer.start('GetProfile', metadata({ baggage: 'tenant=acme' }));
    const seen = await call.run(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      const active = trace.getActiveSpan();
      const child = provider.getTracer('test').startSpan('db.attempt');
      const childRecords = child.isRecording();
      child.end();
      return {
        ids: active?.spanContext(),
        recording: active?.isRecording(),
        childRecords,
        tenant: propagation.getActiveBaggage()?.getEntry('tenant')?.value,
      };
    });
    call.end(status.INTERNAL, 'INTERNAL');
    expect(seen).toEqual({
      ids: { traceId: call.traceId, spanId: call.spanId, traceFlags: TraceFlags.NONE },
      recording: false,
      childRecords: false,
      tenant: 'acme',
    });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('the id handed to a kept span is not handed out again', () => {
    let call = tracer.start('GetProfile', metadata());
    while (!call.sampled) call = tracer.start('GetProfile', metadata());
    call.end(status.OK);
    const next = roots.ids.generateTraceId();
    expect(next).not.toBe(call.traceId);
    expect(provider.getTracer('test').startSpan('probe', { root: true }).spanContext().traceId).not.toBe(call.traceId);
  });
});

describe('server spans of calls with a caller trace', () => {
  const callerSpan = 'b7ad6b7169203331';
  const traceId = '0af7651916cd43dd8448eb211c80319c';

  it('continue a sampled caller trace whatever the ratio says of its id', () => {
    for (let i = 0; i < 20; i++) {
      const id = roots.ids.generateTraceId();
      const call = tracer.start('ListSessions', metadata({ traceparent: `00-${id}-${callerSpan}-01` }));
      call.end(status.NOT_FOUND, 'NOT_FOUND');
      expect(call).toMatchObject({ traceId: id, sampled: true });
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(20);
    for (const span of spans) expect(span.parentSpanContext).toMatchObject({ spanId: callerSpan, isRemote: true });
  });

  it('continue an unsampled caller trace unrecorded', () => {
    const call = tracer.start('ListSessions', metadata({ traceparent: `00-${traceId}-${callerSpan}-00` }));
    call.end(status.OK);
    expect(call).toMatchObject({ traceId, sampled: false });
    expect(call.spanId).not.toBe(callerSpan);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
