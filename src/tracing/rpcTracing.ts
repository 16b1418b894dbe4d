import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { status, type Metadata } from '@grpc/grpc-js';
import type { CallTracer } from '../grpc/wrapUnary';

/** Reads W3C headers from gRPC metadata (binary `-bin` keys are never trace context). */
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).filter((v): v is string => typeof v === 'string');
    return values.length === 0 ? undefined : values;
  },
};

/**
 * Codes that are the server's fault, per the OpenTelemetry gRPC conventions:
 * only these mark a server span as an error (a NOT_FOUND is a correct answer).
 */
const SERVER_ERRORS = new Set([status.UNKNOWN, status.DEADLINE_EXCEEDED, status.UNIMPLEMENTED, status.INTERNAL, status.UNAVAILABLE, status.DATA_LOSS]);

/**
 * The server span of each call of one gRPC service: continued from the
 * caller's `traceparent`/`tracestate`/`baggage` metadata when present, a new
 * root otherwise; `rpc.*` attributes and the status from the gRPC code.
 */
export function createRpcTracer(tracer: Tracer, propagator: TextMapPropagator, service: string): CallTracer {
  return {
    start(method, metadata) {
      const parent = propagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
      const span = tracer.startSpan(
        `${service}/${method}`,
        { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } },
        parent,
      );
      const active = trace.setSpan(parent, span);
      const { traceId, spanId, traceFlags } = span.spanContext();
      return {
        traceId,
        spanId,
        sampled: (traceFlags & 1) === 1,
        run: (work) => context.with(active, work),
        end(code, reason) {
          span.setAttribute('rpc.grpc.status_code', code);
          if (code !== status.OK) span.setAttribute('error.type', reason ?? status[code] ?? String(code));
          if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: status[code] ?? String(code) });
          span.end();
        },
      };
    },
  };
}
