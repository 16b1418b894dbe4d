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

/** Observes every finished call (metrics hook). */
export type CallObserver = (method: string, code: status, durationMs: number) => void;

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

/**
 * Wraps a handler with what every RPC needs: a correlation id (from
 * `x-request-id` or generated, echoed in the response headers (in the
 * trailers of an error, which has no headers), and set in
 * the request context so that every line logged meanwhile carries it), one
 * log line per call with method, code and duration, and the error
 * translation table.
 */
export function createUnaryWrapper(deps: { logger: Logger; observe?: CallObserver; requestContext?: RequestContext; scope?: CallScope }) {
  return function wrap<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = performance.now();
      const given = call.metadata.get('x-request-id')[0];
      const correlationId = typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
      const logger = deps.logger.child({ correlationId, method });

      const finish = (code: status, fields: Record<string, unknown> = {}): void => {
        const durationMs = Math.round((performance.now() - started) * 100) / 100;
        deps.observe?.(method, code, durationMs);
        const level = code === status.OK ? 'info' : code === status.INTERNAL ? 'error' : 'warn';
        logger[level]({ code: status[code], durationMs, ...fields }, 'rpc finished');
      };

      const scope = deps.scope?.open(call.metadata);
      const handle = async (): Promise<Res> => {
        refuseUndecodable(call.request);
        return handler(call.request, { correlationId, logger, deadline: deadlineOf(call) });
      };
      const run = scope === undefined ? handle : () => scope.run(handle);
      (deps.requestContext === undefined ? run() : deps.requestContext.run(correlationId, run)).then(
        (response) => {
          finish(status.OK);
          const headers = new Metadata();
          headers.set('x-request-id', correlationId);
          for (const [key, value] of Object.entries(scope?.headers() ?? {})) headers.set(key, value);
          call.sendMetadata(headers);
          callback(null, response);
        },
        (error: unknown) => {
          // No response headers before an error: the status goes out trailers-only, which is what lets
          // gRPC clients retry it (a call that received headers is committed, gRPC A6).
          const mapped = toStatus(error, correlationId);
          mapped.metadata.set('x-request-id', correlationId);
          finish(mapped.code, mapped.expected ? { reason: mapped.reason, details: mapped.details } : { err: error });
          callback({ code: mapped.code, details: mapped.details, metadata: mapped.metadata });
        },
      );
    };
  };
}

export type UnaryWrapper = ReturnType<typeof createUnaryWrapper>;
