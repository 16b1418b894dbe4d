import { status as grpcStatus } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { CallObserver } from '../grpc/wrapUnary';
import { LATENCY_BUCKETS, seconds } from './buckets';
import { createConfigMetrics } from './createConfigMetrics';
import { createDatabaseMetrics } from './createDatabaseMetrics';
import { createEventMetrics } from './createEventMetrics';
import { createHealthMetrics } from './createHealthMetrics';
import { createListenerMetrics } from './createListenerMetrics';
import { createResilienceMetrics } from './createResilienceMetrics';
import { createTracingMetrics } from './createTracingMetrics';
import { setContentType } from './renderMetrics';

/**
 * Every metric the service exports, registered on the registry the
 * composition root created (never prom-client's global one), with typed
 * hooks for the parts that feed them. Names follow Prometheus conventions:
 * base units (seconds), `_total` counters, `grpc_server_*` as in
 * go-grpc-prometheus so that stock dashboards work.
 */
export function createServiceMetrics(registry: Registry) {
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges "_total", which promtool (rightly) rejects;
  // nodejs_active_{handles,requests,resources} by type carry the same data.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);

  const rpcHandled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'RPCs completed on the server, by service, method and status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers: [registry],
  });
  // prom-client registers exemplar metrics only on an OpenMetrics registry; the registry renders both formats (renderMetrics.ts).
  const format = registry.contentType;
  setContentType(registry, Registry.OPENMETRICS_CONTENT_TYPE);
  const rpcSeconds = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time to handle an RPC on the server, by service and method; sampled calls leave their trace id as an exemplar (OpenMetrics).',
    labelNames: ['grpc_service', 'grpc_method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
    enableExemplars: true,
  });
  setContentType(registry, format);

  return {
    registry,
    ...createDatabaseMetrics(registry),
    ...createHealthMetrics(registry),
    ...createResilienceMetrics(registry),
    ...createListenerMetrics(registry),
    ...createConfigMetrics(registry),
    ...createEventMetrics(registry),
    ...createTracingMetrics(registry),
    /** A CallObserver (createUnaryWrapper's `observe`) labelling calls with their service. */
    rpcObserver(service: string): CallObserver {
      return (method, code, durationMs, traceId) => {
        rpcHandled.inc({ grpc_service: service, grpc_method: method, grpc_code: grpcStatus[code] ?? String(code) });
        rpcSeconds.observe({
          labels: { grpc_service: service, grpc_method: method },
          value: seconds(durationMs),
          // prom-client types exemplar labels as the metric's own label names; any name is valid.
          ...(traceId !== undefined && { exemplarLabels: { trace_id: traceId } as unknown as Record<'grpc_method', string> }),
        });
      };
    },
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
