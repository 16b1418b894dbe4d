import type { TracingConfig } from '../config/tracingConfig';
import type { WorkTracer } from '../db/DatabaseGateway';
import type { CallTracer } from '../grpc/wrapUnary';
import type { DependencyCheck, ProbeTracing } from '../health/types';
import type { Logger } from 'pino';
import type { Interceptor } from 'slonik';
import { createCollectorCheck } from './collectorCheck';
import { createDatabaseTracing, type DatabaseTracingOptions } from './databaseTracing';
import { createProbeTracing } from './probeTracing';
import { createRpcTracer } from './rpcTracing';
import { createTraceProvider } from './createTracing';
import type { ExportEvents } from './SpanExportMonitor';

/** The tracing parts a running service hands out; every part is undefined when tracing is off. */
export interface ServiceTracing {
  readonly enabled: boolean;
  /** The server span of each call of `service`, for createUnaryWrapper. */
  readonly rpc: (service: string) => CallTracer | undefined;
  readonly database: { readonly work: WorkTracer; readonly interceptor: Interceptor } | undefined;
  readonly probes: ProbeTracing | undefined;
  /** The otel-collector dependency for GetHealth (non-critical). */
  readonly collectorCheck: DependencyCheck | undefined;
  /** Exports what is queued (bounded by the exporter's timeout) and stops. */
  shutdown(): Promise<void>;
}

export interface TracingDeps extends Omit<DatabaseTracingOptions, 'tracer'> {
  readonly events: ExportEvents;
  /** How often GetHealth re-reads the exporter's state. */
  readonly checkIntervalMs: number;
  readonly version: string;
  readonly logger: Logger;
}

const OFF: ServiceTracing = {
  enabled: false,
  rpc: () => undefined,
  database: undefined,
  probes: undefined,
  collectorCheck: undefined,
  shutdown: () => Promise.resolve(),
};

/** Lifecycle step: builds the trace SDK (createTracing.ts) and the span makers the service's parts receive. */
export function startTracing(config: TracingConfig, deps: TracingDeps): ServiceTracing {
  const provider = createTraceProvider(config, deps.events, deps.version);
  if (provider === undefined || config.export === undefined) return OFF;
  const tracer = provider.provider.getTracer('coaching-service', deps.version);
  return {
    enabled: true,
    rpc: (service) => createRpcTracer(tracer, provider.propagator, provider.roots, service),
    database: createDatabaseTracing({ tracer, target: deps.target, scrub: deps.scrub }),
    probes: createProbeTracing(tracer, provider.propagator),
    collectorCheck: createCollectorCheck(config.export, provider.exportState, deps.checkIntervalMs),
    // A collector that refuses the last batch must not fail the service's stop.
    shutdown: () =>
      provider.shutdown().catch((error: unknown) => {
        deps.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'tracing: the last spans could not be exported at shutdown');
      }),
  };
}
