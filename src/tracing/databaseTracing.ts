import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Interceptor } from 'slonik';
import type { WorkTracer } from '../db/DatabaseGateway';
import { DomainError } from '../domain/errors';

/** Longest statement text on a span; the text never holds values (slonik sends them as parameters). */
const MAX_STATEMENT_LENGTH = 2000;

export interface DatabaseTracingOptions {
  readonly tracer: Tracer;
  /** Database name and server, for `db.namespace` and `server.*`. */
  readonly target: () => { name: string; host: string; port: number };
  /** Removes registered secret values from statement text (a literal password in DDL, say). */
  readonly scrub: (text: string) => string;
}

/**
 * Whether the caller's work is being recorded. Under an unsampled call (the
 * default sampler is parent-based, so its children would be unsampled too)
 * the database spans are not even started: at 1 % sampling that is 99 % of
 * calls, and each would otherwise build a scrubbed statement text and three
 * or four no-op spans.
 */
const recording = (): boolean => trace.getActiveSpan()?.isRecording() === true;

const operationName = (text: string): string => /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';

function fail(span: Span, error: unknown): void {
  const type = error instanceof DomainError ? error.reason : error instanceof Error ? error.name : 'Error';
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/**
 * Spans for the database path: every policy attempt and transaction (the
 * gateway's WorkTracer), and, through a slonik interceptor, every statement
 * (`db.*` conventions; the SQL text with its `$n` placeholders, never the
 * values) and every pool acquisition (its duration is the wait). Statement
 * and acquisition spans are children of whatever span is active in the
 * caller's async context, so they nest under the transaction or attempt.
 */
export function createDatabaseTracing(options: DatabaseTracingOptions): { work: WorkTracer; interceptor: Interceptor } {
  const { tracer } = options;
  const statements = new WeakMap<object, Span>();
  const acquisitions = new WeakMap<object, Span>();
  const dbAttributes = (): Record<string, string | number> => {
    const target = options.target();
    return {
      'db.system': 'postgresql',
      'db.system.name': 'postgresql',
      'db.namespace': target.name,
      'server.address': target.host,
      'server.port': target.port,
    };
  };

  const inSpan = async <T>(name: string, attributes: Record<string, string | number>, work: () => Promise<T>): Promise<T> =>
    !recording()
      ? work()
      : tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
          try {
            return await work();
          } catch (error) {
            fail(span, error);
            throw error;
          } finally {
            span.end();
          }
        });

  const work: WorkTracer = {
    // The span name and attributes are built only for recorded work (not for the 99 % of calls a 1 % sampler drops).
    attempt: (operation, kind, attempt, run) =>
      recording() ? inSpan(`db.attempt ${operation}`, { 'db.operation.summary': operation, 'db.work.kind': kind, 'db.attempt': attempt }, run) : run(),
    transaction: (run) => (recording() ? inSpan('db.transaction', dbAttributes(), run) : run()),
    event: (name, attributes) => trace.getActiveSpan()?.addEvent(name, attributes),
  };

  const interceptor: Interceptor = {
    name: 'tracing',
    beforePoolConnection: (poolContext) => {
      if (recording()) acquisitions.set(poolContext, tracer.startSpan('db.pool.acquire', { attributes: dbAttributes() }, context.active()));
      return null;
    },
    afterPoolConnection: (connectionContext) => {
      acquisitions.get(connectionContext)?.end();
      return null;
    },
    beforeQueryExecution: (queryContext, query) => {
      // Only statements of recorded work: the pool's own housekeeping has no parent and needs no trace.
      if (!recording()) return null;
      const text = options.scrub(query.sql).slice(0, MAX_STATEMENT_LENGTH);
      const operation = operationName(text);
      const span = tracer.startSpan(
        operation,
        { kind: SpanKind.CLIENT, attributes: { ...dbAttributes(), 'db.query.text': text, 'db.operation.name': operation } },
        context.active(),
      );
      statements.set(queryContext, span);
      return null;
    },
    afterQueryExecution: (queryContext, _query, result) => {
      const span = statements.get(queryContext);
      span?.setAttribute('db.response.returned_rows', result.rowCount);
      span?.end();
      return null;
    },
    queryExecutionError: (queryContext, _query, error) => {
      const span = statements.get(queryContext);
      if (span !== undefined) {
        const code = (error as { cause?: { code?: unknown } }).cause?.code;
        if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
        fail(span, error);
        span.end();
      }
      return null;
    },
  };

  return { work, interceptor };
}
