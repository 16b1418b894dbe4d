import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the request being served, carried through async
 * calls. The RPC wrapper runs each handler inside `run`; the logger adds the
 * id to every line written meanwhile, so modules that log with their own
 * logger (the database gateway, say) still tag request-path lines.
 */
export class RequestContext {
  readonly #storage = new AsyncLocalStorage<string>();

  run<T>(correlationId: string, work: () => T): T {
    return this.#storage.run(correlationId, work);
  }

  correlationId(): string | undefined {
    return this.#storage.getStore();
  }
}
