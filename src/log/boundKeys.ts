import pino, { type Logger } from 'pino';

/** Which of the keys the logger's mixin adds a logger already binds itself. */
export interface BoundKeys {
  readonly correlationId: boolean;
  readonly traceId: boolean;
}

interface Cached extends BoundKeys {
  /** The serialised bindings these answers were read from. */
  readonly chindings: unknown;
}

const cache = new WeakMap<object, Cached>();

/**
 * `logger.bindings()` parses the logger's serialised bindings (a JSON text) on
 * every call; the mixin asked it for every line written while serving a request.
 * The answer is read once per logger and kept until its bindings change
 * (`setBindings` replaces the serialised text, which is compared by identity).
 * Weakly held: a request's child logger and its entry go when the request does.
 */
export function boundKeys(logger: Logger): BoundKeys {
  const chindings: unknown = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  const cached = cache.get(logger);
  if (cached !== undefined && cached.chindings === chindings) return cached;
  const bound = logger.bindings();
  const fresh: Cached = { chindings, correlationId: 'correlationId' in bound, traceId: 'trace_id' in bound };
  cache.set(logger, fresh);
  return fresh;
}
