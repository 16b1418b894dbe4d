import type { Logger } from 'pino';
import { startPagerLease, type PagerLease } from '../alerting/pagerLease';
import type { Config } from '../config/config';
import type { ConfigReload } from './createConfigReload';
import type { DatabaseEndpoints } from './startDatabaseEndpoints';

/**
 * The pager lease, when pages are sent at all (a webhook) and ALERT_PAGER_LEASE
 * is on: several instances see one outage, only the lease holder pages
 * (README "Design decisions": one page per outage).
 */
export function startPager(config: Config, endpoints: DatabaseEndpoints, reloads: ConfigReload, logger: Logger): PagerLease | undefined {
  if (!config.alerting.pagerLease || config.alerting.webhookUrl === undefined) return undefined;
  return startPagerLease({
    db: () => endpoints.aim(reloads.current().db),
    intervalMs: config.db.healthCheckIntervalMs,
    logger: logger.child({ module: 'alerting' }),
  });
}
