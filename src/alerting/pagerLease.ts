import { Client } from 'pg';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/config';
import { directConnection, pgClientConfig } from '../db/connectionSettings';

/** Whether this instance sends pages now (README "Design decisions": one page per outage). */
export interface PagerLease {
  /** True while this instance holds the lease, or while nobody is known to (better a duplicate page than none). */
  pages(): boolean;
  /** 'holder', 'other' (another instance holds it) or 'unknown'. */
  role(): 'holder' | 'other' | 'unknown';
  stop(): Promise<void>;
}

const LEASE_KEY = 'coaching-service:alert-pager';

/**
 * The pager lease: a session-level advisory lock held on one dedicated,
 * direct connection (never through a transaction pooler). Every instance
 * tries to take it each interval; the one that has it pages, the others only
 * log and count their alerts. An outage of the database itself breaks the
 * lock's session, so roles are sticky: the last holder keeps paging and the
 * others keep quiet, until a later round says otherwise or `staleAfterMs`
 * passes without a round that could check (then every instance pages).
 */
export function startPagerLease(deps: { readonly db: () => DatabaseConfig; readonly intervalMs: number; readonly logger: Logger }): PagerLease {
  // Longer than an alert takes to fire (a few failing probes), so one outage keeps one pager.
  const staleAfterMs = Math.max(deps.intervalMs * 3, 60_000);
  let client: Client | undefined;
  let known: { role: 'holder' | 'other'; at: number } | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const drop = (): void => {
    const c = client;
    client = undefined;
    void c?.end().catch(() => undefined);
  };
  const round = async (): Promise<void> => {
    try {
      if (client === undefined) {
        const db = directConnection(deps.db());
        const c = new Client({ ...pgClientConfig(db), application_name: 'coaching-service-pager' });
        c.on('error', () => drop());
        await c.connect();
        if (stopped) {
          await c.end();
          return;
        }
        client = c;
      }
      if (known?.role === 'holder') {
        await client.query('select 1');
      } else {
        const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1)) as locked', [LEASE_KEY]);
        const role = result.rows[0]?.locked === true ? 'holder' : 'other';
        if (role !== known?.role)
          deps.logger.info({ pager: role }, role === 'holder' ? 'this instance pages for outages (pager lease)' : 'another instance holds the pager lease');
        known = { role, at: Date.now() };
        return;
      }
      known = { role: 'holder', at: Date.now() };
    } catch {
      // The database (or the lock's session) is gone: keep the last known role until it is stale.
      drop();
    }
  };
  const tick = (): void => {
    timer = setTimeout(() => {
      void round().finally(() => {
        if (!stopped) tick();
      });
    }, deps.intervalMs);
    timer.unref();
  };
  void round().finally(() => {
    if (!stopped) tick();
  });

  const role = (): 'holder' | 'other' | 'unknown' => (known === undefined || Date.now() - known.at > staleAfterMs ? 'unknown' : known.role);
  return {
    role,
    pages: () => role() !== 'other',
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
