import type { Config } from '../src/config/config';
import { sample, scrape } from './support/promtool';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import { startTestService } from './support/testService';
import { waitFor } from './support/waitFor';

let db: TestDatabase;
const h = useHarness({ service: false });
beforeAll(() => ({ db } = h));

describe('reload audit trail', () => {
  it('logs which keys changed (names, never values), whether it was applied or refused and why, and counts them', async () => {
    const next: { config: Config } = { config: db.config() };
    const svc = await startTestService(next.config, { reloadConfig: () => next.config });
    try {
      await waitFor('readiness SERVING', () => svc.service.readiness.ready);
      const audits = () => svc.logs.records().filter((r) => r.audit === true && r.action === 'config-reload');

      // Applied: a pool setting, plus a setting that needs a restart.
      next.config = db.config({ DB_MAX_CONNECTIONS: '7', DB_STATEMENT_TIMEOUT: '17', SHUTDOWN_TIMEOUT: '43' });
      expect((await svc.service.reload()).ok).toBe(true);
      const applied = audits().at(-1)!;
      expect(applied).toMatchObject({
        outcome: 'applied',
        changedKeys: ['db.maxConnections', 'db.statementTimeoutMs'],
        needsRestart: ['resilience.bulkheadLimit', 'resilience.bulkheadQueue', 'shutdownTimeoutMs'],
      });
      expect(applied.msg).toBe('configuration reload applied (changed: db.maxConnections, db.statementTimeoutMs)');
      expect(applied).not.toHaveProperty('reason');

      // Refused: a port nothing listens on; the reason says why, the previous configuration stays.
      next.config = db.config({ DB_MAX_CONNECTIONS: '7', DB_STATEMENT_TIMEOUT: '17', SHUTDOWN_TIMEOUT: '43', DB_PORT: '9', DB_CONNECT_TIMEOUT: '1' });
      expect((await svc.service.reload()).ok).toBe(false);
      const refused = audits().at(-1)!;
      // Compared with the configuration in force: keys that need a restart stay different until one.
      expect(refused).toMatchObject({
        outcome: 'refused',
        changedKeys: ['db.connectTimeoutMs', 'db.port'],
        needsRestart: ['resilience.bulkheadLimit', 'resilience.bulkheadQueue', 'shutdownTimeoutMs'],
      });
      expect(String(refused.reason)).not.toBe('');
      expect(svc.service.configInForce().db.port).not.toBe(9);

      // Names only: the values of the changed settings appear nowhere in the audit lines.
      for (const line of audits()) {
        const text = JSON.stringify({ changedKeys: line.changedKeys, needsRestart: line.needsRestart, msg: line.msg });
        for (const value of ['"7"', ':7', '17000', '43000', '"9"']) expect(text).not.toContain(value);
      }

      // Nothing changed: applied, and says so.
      next.config = svc.service.configInForce();
      await svc.service.reload();
      expect(audits().at(-1)).toMatchObject({ outcome: 'applied', changedKeys: [], msg: 'configuration reload applied (no database setting changed)' });

      const metrics = (await scrape(svc.service.metricsPort!)).text;
      expect(sample(metrics, 'coaching_config_key_changes_total', { key: 'db.maxConnections', outcome: 'applied' })).toBe(1);
      expect(sample(metrics, 'coaching_config_key_changes_total', { key: 'db.port', outcome: 'refused' })).toBe(1);
      expect(sample(metrics, 'coaching_config_key_changes_total', { key: 'shutdownTimeoutMs', outcome: 'needs-restart' })).toBe(2);
    } finally {
      await svc.stop();
    }
  });
});
