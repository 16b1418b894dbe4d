import pino, { type Logger } from 'pino';
import { boundLogFields, boundLogString } from './boundLogFields';
import type { RequestContext } from './RequestContext';
import { boundKeys } from './boundKeys';
import { activeTraceFields } from './traceFields';
import type { SecretRegistry } from './SecretRegistry';

export interface LoggerOptions {
  readonly level: string;
  readonly secrets: SecretRegistry;
  /** When given, lines written while serving a request carry its correlationId. */
  readonly requestContext?: RequestContext;
  /** Where lines go; stdout by default (tests pass a capture stream). */
  readonly destination?: pino.DestinationStream;
}

/**
 * One JSON logger for the whole process. Redaction happens in the logger
 * itself: secret keys are censored at any depth (boundLogFields), and every finished line is scrubbed
 * of registered secret values and of passwords inside connection URLs, so a
 * secret cannot leak through an error message either. Every field is made
 * well-formed and capped first (boundLogFields), so a line stays small
 * whatever a request held.
 */
export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { service: 'coaching-service' },
      timestamp: isoTimeOncePerMs(),
      // Secret keys (password, connectionString) are censored by boundLogFields in the same walk (child bindings: below).
      formatters: { level: (label) => ({ level: label }), log: boundLogFields },
      // Errors and messages may carry request values too: bounded like every other field.
      serializers: {
        err: (error: Error) => boundLogFields(pino.stdSerializers.err(error)),
        msg: (message: unknown) => (typeof message === 'string' ? boundLogString(message) : message),
      },
      hooks: { streamWrite: (line) => options.secrets.scrubJsonLine(line) },
      mixin: (_fields, _level, logger) => {
        // The RPC wrapper's child logger already binds them; do not write the keys twice (nor look them up).
        const bound = boundKeys(logger);
        const correlationId = bound.correlationId ? undefined : options.requestContext?.correlationId();
        const traceFields = bound.traceId ? undefined : activeTraceFields();
        if (correlationId === undefined && traceFields === undefined) return {};
        return {
          ...(correlationId !== undefined && { correlationId }),
          ...traceFields,
        };
      },
    },
    options.destination ?? stdoutBatched(),
  );
  // pino does not pass a child's bindings through formatters: bound and censor them here, for every
  // descendant too (a child is an Object.create of its parent, so it inherits this method).
  type ChildOf = (this: unknown, bindings: pino.Bindings, childOptions?: unknown) => unknown;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the logger being extended as `this`
  const pinoChild = logger.child as unknown as ChildOf;
  const boundChild: ChildOf = function (this: unknown, bindings, childOptions) {
    return pinoChild.call(this, boundLogFields(bindings), childOptions);
  };
  logger.child = boundChild as unknown as Logger['child'];
  return logger;
}

/**
 * pino's `isoTime`, with the text made once per millisecond: under load several
 * lines share a millisecond, and `toISOString` per line was ~1 % of the CPU of a GetProfile.
 */
export function isoTimeOncePerMs(now: () => number = Date.now): () => string {
  let lastMs = Number.NaN;
  let last = '';
  return () => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      last = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return last;
  };
}

/**
 * stdout, written in batches of about 4 KiB instead of one write per line
 * (one syscall per RPC log line cost 5-13 % of the service's CPU in the
 * benchmark). A timer flushes at least once a second, and every exit path
 * calls logger.flush(), so a line is at most a second late, never lost on a
 * clean exit.
 */
function stdoutBatched(): pino.DestinationStream {
  const destination = pino.destination({ sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 1000).unref();
  return destination;
}
