import { sql } from 'slonik';
import type { Config } from '../config/config';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import type { DatabasePolicy } from '../resilience/createDatabasePolicy';
import { HalfOpenProber } from '../resilience/HalfOpenProber';

/** The database breaker's prober: `select 1` through the gateway (so through the breaker) every half-open interval until it closes. */
export function createBreakerProber(config: Config, policy: DatabasePolicy, db: DatabaseGateway, signal: AbortSignal): HalfOpenProber {
  return new HalfOpenProber({
    state: () => policy.breakerState(),
    probe: () => db.read('recovery-probe', (c) => c.oneFirst(sql.unsafe`select 1`), { deadline: new Date(Date.now() + config.db.pingTimeoutMs) }),
    intervalMs: config.resilience.breakerHalfOpenAfterMs,
    signal,
  });
}
