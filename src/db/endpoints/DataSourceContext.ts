import { AsyncLocalStorage } from 'node:async_hooks';

/** Where the reads of one call were served from, and whether the caller allows a standby. */
export interface DataSource {
  /** `x-require-primary: true`: fail rather than read a standby. */
  readonly requirePrimary: boolean;
  /** Set by the read router when a read of this call went to a standby. */
  standby?: { readonly endpoint: string; readonly replayTime: Date | null };
}

/**
 * Carries {@link DataSource} through one call: the RPC wrapper opens it (from
 * the request metadata) and reads it back for the response metadata
 * (`x-data-source: standby`); the read router consults and marks it.
 */
export class DataSourceContext {
  readonly #storage = new AsyncLocalStorage<DataSource>();

  run<T>(source: DataSource, work: () => T): T {
    return this.#storage.run(source, work);
  }

  current(): DataSource | undefined {
    return this.#storage.getStore();
  }
}
