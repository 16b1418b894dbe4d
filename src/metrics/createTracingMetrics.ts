import { Counter, type Registry } from 'prom-client';

/** Spans handed to the OTLP exporter, by outcome: exported, or dropped (queue full, export failed). */
export function createTracingMetrics(registry: Registry) {
  const exported = new Counter({
    name: 'coaching_tracing_spans_exported_total',
    help: 'Spans the OTLP exporter delivered to the collector.',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'coaching_tracing_spans_dropped_total',
    help: 'Spans lost before reaching the collector, by reason: queue-full (export queue at OTEL_BSP_MAX_QUEUE_SIZE) or export-failed.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    spansExported: (count: number): void => exported.inc(count),
    spansDropped: (reason: 'queue-full' | 'export-failed', count: number): void => dropped.inc({ reason }, count),
  };
}
