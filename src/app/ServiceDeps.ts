import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { StartupError } from '../db/prepareDatabase';
import type { RequestContext } from '../log/RequestContext';
import type { SecretRegistry } from '../log/SecretRegistry';
import type { createServiceMetrics } from '../metrics/createServiceMetrics';

/** What the caller of `startService` (main.ts, the tests) provides. */
export interface ServiceDeps {
  readonly logger: Logger;
  readonly secrets: SecretRegistry;
  /** Carries the correlation id of the request being served into every log line it causes. */
  readonly requestContext?: RequestContext;
  /** Fresh configuration for reloads (SIGHUP, password file change); defaults to the start configuration. */
  readonly reloadConfig?: () => Config;
  /** Called when a late database connection (after a degraded start) finds a problem only an operator can fix. */
  readonly onFatal?: (error: StartupError) => void;
}

export type Metrics = ReturnType<typeof createServiceMetrics>;

/** Resources a failed start must release, in the reverse order of their creation. */
export class StartupScope {
  readonly #closers: (() => unknown)[] = [];

  /** Registers how to release something just created. */
  defer(close: () => unknown): void {
    this.#closers.push(close);
  }

  /** Releases everything registered, newest first; a failing closer does not stop the others. */
  async unwind(): Promise<void> {
    for (const close of this.#closers.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
  }
}
