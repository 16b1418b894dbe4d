import { context, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { Metadata } from '@grpc/grpc-js';
import type { TracingConfig } from '../config/tracingConfig';
import { SpanExportMonitor, type ExportEvents, type ExportState } from './SpanExportMonitor';
import { TraceIds } from './TraceIds';

/** The tracer provider of a running service, or nothing at all when tracing is off. */
export interface TraceProvider {
  readonly provider: TracerProvider;
  readonly propagator: TextMapPropagator;
  /** The provider's sampler and id generator, for the RPC tracer's decision on new root traces (rpcTracing.ts). */
  readonly roots: { readonly sampler: Sampler; readonly ids: TraceIds };
  readonly exportState: () => ExportState;
  shutdown(): Promise<void>;
}

function sampler(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function exporter(config: NonNullable<TracingConfig['export']>): SpanExporter {
  const common = { url: config.url, timeoutMillis: config.timeoutMs };
  switch (config.protocol) {
    case 'grpc': {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(config.headers)) metadata.set(key, value);
      return new GrpcExporter({ ...common, metadata });
    }
    case 'http/json':
      return new JsonExporter({ ...common, headers: { ...config.headers } });
    case 'http/protobuf':
      return new ProtobufExporter({ ...common, headers: { ...config.headers } });
  }
}

/**
 * The OpenTelemetry API's context manager (AsyncLocalStorage) is process-wide
 * by design; it is registered the first time a service starts with tracing
 * on (a second registration is refused by the API, and the spare manager is
 * disabled). Nothing else is global: each service hands its own tracer and
 * propagator to the parts that make spans.
 */
function registerContextManager(): void {
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

/**
 * Builds the trace SDK from the configuration: resource, sampler
 * (parent-based by default), the OTLP exporter of the configured protocol,
 * and a batch processor behind the export monitor. Returns undefined when
 * tracing is off: nothing is built, nothing is registered, no span is made.
 */
export function createTraceProvider(config: TracingConfig, events: ExportEvents, version: string): TraceProvider | undefined {
  if (!config.enabled || config.export === undefined) return undefined;
  const { batch } = config;
  const monitor = new SpanExportMonitor(
    (monitored) =>
      new BatchSpanProcessor({
        exporter: monitored,
        maxQueueSize: batch.maxQueueSize,
        maxExportBatchSize: batch.maxExportBatchSize,
        scheduledDelayMillis: batch.scheduledDelayMs,
        exportTimeoutMillis: batch.exportTimeoutMs,
      }),
    exporter(config.export),
    batch.maxQueueSize,
    events,
  );
  const roots = { sampler: sampler(config), ids: new TraceIds() };
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_VERSION]: version, ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: roots.sampler,
    idGenerator: roots.ids,
    spanProcessors: [monitor],
  });
  const propagator = new CompositePropagator({
    propagators: config.propagators.map((name) => (name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator())),
  });
  registerContextManager();
  return {
    provider,
    propagator,
    roots,
    exportState: () => monitor.state(),
    // Bounded by the exporter's own timeout: a dead collector cannot hold up the stop for long.
    shutdown: () => provider.shutdown(),
  };
}
