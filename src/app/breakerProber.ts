import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'slonik';
import type { Config } from '../config/config';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import type { DatabasePolicy } from '../resilience/createDatabasePolicy';

export interface BreakerProber {
  /** Starts probing while the breaker is open (a no-op while a probe loop runs). */
  probeUntilClosed(): void;
}

/** With no traffic an open breaker never gets its half-open trial: send one every half-open interval until it closes. */
export function createBreakerProber(config: Config, policy: DatabasePolicy, db: DatabaseGateway, signal: AbortSignal): BreakerProber {
  let probing = false;
  const loop = async (): Promise<void> => {
    if (probing) return;
    probing = true;
    try {
      while (!signal.aborted && policy.breakerState() === 'open') {
        await delay(config.resilience.breakerHalfOpenAfterMs, undefined, { signal }).catch(() => undefined);
        await db
          .read('recovery-probe', (c) => c.oneFirst(sql.unsafe`select 1`), { deadline: new Date(Date.now() + config.db.pingTimeoutMs) })
          .catch(() => undefined);
      }
    } finally {
      probing = false;
    }
  };
  return { probeUntilClosed: () => void loop() };
}
