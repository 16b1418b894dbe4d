import { randomUUID } from 'node:crypto';
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RequestContext } from '../log/RequestContext';
import { toStatus } from './errorStatus';
import { refuseUndecodable } from './requestDecoding';

/** What a handler knows about the call it serves. */
export interface CallContext {
  readonly correlationId: string;
  readonly logger: Logger;
  /** The client's deadline, when it set one. */
  readonly deadline: Date | undefined;
}

export type UnaryHandler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/** Observes every finished call (metrics hook); `traceId` when the call was sampled (a latency exemplar). */
export type CallObserver = (method: string, code: status, durationMs: number, traceId?: string) => void;

/** One call's server span (src/tracing implements it), continued from the caller's trace context when it sent one. */
export interface TracedCall {
  readonly traceId: string;
  readonly spanId: string;
  /** The span is recorded and exported (not just propagated). */
  readonly sampled: boolean;
  /** Runs the handler with the span active, so that its database work and log lines join the trace. */
  run<T>(work: () => T): T;
  /** Ends the span with the call's status code (and the error reason, when there is one). */
  end(code: status, reason?: string): void;
}

/** Starts the server span of a call from its incoming metadata (traceparent, tracestate, baggage). */
export interface CallTracer {
  start(method: string, metadata: Metadata): TracedCall;
}

/**
 * Per-call state opened around the handler from the request metadata (where
 * the reads were served from, say), with the response headers it adds.
 */
export interface CallScope {
  open(metadata: Metadata): { run<T>(work: () => Promise<T>): Promise<T>; headers(): Readonly<Record<string, string>> };
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): Date | undefined {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}

/** Wraps a handler with what every RPC needs (correlation id, one log line, error translation, a server span): README "Design decisions", "One wrapper for every call". */
export function createUnaryWrapper(deps: {
  logger: Logger;
  observe?: CallObserver;
  requestContext?: RequestContext;
  tracer?: CallTracer | undefined;
  scope?: CallScope | undefined;
}) {
  return function wrap<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = performance.now();
      const traced = deps.tracer?.start(method, call.metadata);
      const given = call.metadata.get('x-request-id')[0];
      // With a trace, the correlation id is the trace id unless the caller chose one (README: tracing).
      const correlationId = typeof given === 'string' && CORRELATION_ID.test(given) ? given : (traced?.traceId ?? randomUUID());
      const bound = traced === undefined ? { correlationId, method } : { correlationId, method, trace_id: traced.traceId, span_id: traced.spanId };
      // The call's child logger is made only when the handler asks for it (pino serialises a child's
      // bindings when it is created); the wrapper's own line writes the same fields, in the same order.
      let callLogger: Logger | undefined;
      const tag = (metadata: Metadata): Metadata => {
        metadata.set('x-request-id', correlationId);
        if (traced !== undefined) metadata.set('x-trace-id', traced.traceId);
        return metadata;
      };

      const finish = (code: status, fields: Record<string, unknown> = {}): void => {
        const durationMs = Math.round((performance.now() - started) * 100) / 100;
        deps.observe?.(method, code, durationMs, traced?.sampled === true ? traced.traceId : undefined);
        traced?.end(code, typeof fields.reason === 'string' ? fields.reason : undefined);
        const level = code === status.OK ? 'info' : code === status.INTERNAL ? 'error' : 'warn';
        deps.logger[level]({ ...bound, code: status[code], durationMs, ...fields }, 'rpc finished');
      };

      const scope = deps.scope?.open(call.metadata);
      const handle = async (): Promise<Res> => {
        refuseUndecodable(call.request);
        return handler(call.request, {
          correlationId,
          get logger() {
            return (callLogger ??= deps.logger.child(bound));
          },
          deadline: deadlineOf(call),
        });
      };
      const run = scope === undefined ? handle : () => scope.run(handle);
      const serve = (): Promise<Res> => (deps.requestContext === undefined ? run() : deps.requestContext.run(correlationId, run));
      (traced === undefined ? serve() : traced.run(serve)).then(
        (response) => {
          finish(status.OK);
          const headers = tag(new Metadata());
          for (const [key, value] of Object.entries(scope?.headers() ?? {})) headers.set(key, value);
          call.sendMetadata(headers);
          callback(null, response);
        },
        (error: unknown) => {
          // No response headers before an error: the status goes out trailers-only, which is what lets
          // gRPC clients retry it (a call that received headers is committed, gRPC A6).
          const mapped = toStatus(error, correlationId);
          tag(mapped.metadata);
          finish(mapped.code, mapped.expected ? { reason: mapped.reason, details: mapped.details } : { err: error });
          callback({ code: mapped.code, details: mapped.details, metadata: mapped.metadata });
        },
      );
    };
  };
}

export type UnaryWrapper = ReturnType<typeof createUnaryWrapper>;
