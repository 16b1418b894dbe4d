import { context, trace } from '@opentelemetry/api';

/**
 * trace_id and span_id of the span active now (the OpenTelemetry context of
 * the async call chain), or undefined outside any trace. Without a context
 * manager (tracing off) the active context is always the empty root one.
 */
export function activeTraceFields(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : undefined;
}
