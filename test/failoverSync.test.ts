/**
 * What synchronous replication changes in a failover: with the standby named
 * in synchronous_standby_names and synchronous_commit=on, the primary
 * acknowledges a commit only once the standby has it, so killing the primary
 * and promoting the standby loses no acknowledged write (asserted here; the
 * asynchronous drill in failover.test.ts only measures it).
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/config';
import { renderTable, type ChaosRow } from './chaos/support/summary';
import { FAST_FAILOVER_ENV, failoverDrill } from './support/failoverDrill';
import { useReplicationCluster } from './support/replication';
import { describeWithTools } from './support/systemTools';
import { serviceEnv } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const cluster = useReplicationCluster({ standbys: 1 });
const rows: ChaosRow[] = [];

describeWithTools(['postgresql-15'], 'failover with synchronous replication (PostgreSQL 15)', () => {
  let svc: TestService | undefined;
  afterAll(async () => {
    await svc?.stop();
    process.stdout.write(`\nChaos summary (failover, synchronous)\n${renderTable(rows)}\n`);
  });

  it('loses no acknowledged write when the primary is killed and the synchronous standby promoted', async () => {
    const { primary, standbys } = cluster();
    // Made synchronous once the standby streams (before that, every commit would wait for it).
    primary.configure({ synchronous_standby_names: "'standby1'", synchronous_commit: 'on' });
    await primary.query('select pg_reload_conf()');
    await waitFor('the standby to be synchronous', async () => {
      const rows = await primary.query<{ sync: string }>("select sync_state as sync from pg_stat_replication where application_name = 'standby1'");
      return rows[0]?.sync === 'sync';
    });
    await primary.query('create database coaching');
    const url = `postgresql://postgres@127.0.0.1:${primary.port},127.0.0.1:${standbys[0]!.port}/coaching`;
    svc = await startTestService(
      loadConfig({
        env: serviceEnv(url, {
          ...FAST_FAILOVER_ENV,
        }),
      }),
    );
    const row = await failoverDrill({
      scenario: 'failover: primary killed, standby promoted (synchronous)',
      port: svc.service.port,
      oldPrimary: primary,
      promoted: standbys[0]!,
      prefix: `sync-${randomUUID().slice(0, 8)}`,
    });
    rows.push(row);
    expect(row.lost).toBe(0);
    expect(row.duplicated).toBe(0);
    expect(row.toFirstWriteS).toBeLessThan(20);
  }, 120_000);
});
