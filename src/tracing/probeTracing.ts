import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import type { ProbeTracing } from '../health/types';

/**
 * Health probes as root spans (`health.probe <dependency>`, with the outcome
 * as attributes), and the trace context written into their outgoing requests
 * so an upstream that traces sees the probe as its parent; other outgoing
 * calls (the alert webhook) as client spans of their own.
 */
export function createProbeTracing(tracer: Tracer, propagator: TextMapPropagator): ProbeTracing {
  const inject = (carrier: Record<string, string>): void =>
    propagator.inject(context.active(), carrier, { set: (c: Record<string, string>, k: string, v: string) => (c[k] = v) });
  return {
    probe: (check, run) =>
      tracer.startActiveSpan(
        `health.probe ${check.name}`,
        {
          kind: SpanKind.CLIENT,
          root: true,
          attributes: { 'health.dependency': check.name, 'health.dependency.type': check.type, 'health.critical': check.critical },
        },
        ROOT_CONTEXT,
        async (span) => {
          try {
            const outcome = await run();
            span.setAttribute('health.status', outcome.status);
            if (outcome.errorCode !== undefined) {
              span.setAttribute('error.type', outcome.errorCode);
              span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorCode });
            }
            return outcome;
          } finally {
            span.end();
          }
        },
      ),
    inject,
    call: (name, attributes, run) =>
      tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
        const headers: Record<string, string> = {};
        inject(headers);
        try {
          return await run(headers);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'Error' });
          throw error;
        } finally {
          span.end();
        }
      }),
  };
}
