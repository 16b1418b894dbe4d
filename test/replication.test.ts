/**
 * The replication harness itself, on real PostgreSQL 15 servers: streaming to
 * standbys, lag, promotion, an old primary back as writable (split brain) and
 * rejoining as a standby. The failover tests of the service build on it.
 */
import { catchUp, rejoinAsStandby, replicationLag, useReplicationCluster } from './support/replication';
import { waitFor } from './support/waitFor';
import { describeWithTools } from './support/systemTools';

const cluster = useReplicationCluster({ standbys: 2 });

const count = async (node: { query: <T extends object>(text: string) => Promise<T[]> }, table = 'drill'): Promise<number> => {
  const [row] = await node.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return row!.n;
};

describeWithTools(['postgresql-15'], 'replication harness (PostgreSQL 15)', () => {
  it('streams a committed write from the primary to every standby, which refuse writes', async () => {
    const { primary, standbys } = cluster();
    expect(await primary.inRecovery()).toBe(false);
    await primary.query('create table drill (id int primary key, note text not null)');
    await primary.query("insert into drill values (1, 'on the primary')");
    for (const standby of standbys) {
      expect(await standby.inRecovery()).toBe(true);
      await catchUp(primary, standby);
      expect(await standby.query('select id, note from drill order by id')).toEqual([{ id: 1, note: 'on the primary' }]);
      await expect(standby.query("insert into drill values (2, 'on a standby')")).rejects.toMatchObject({ code: '25006' });
    }
    expect(await count(primary)).toBe(1);
    // The primary sees both standbys streaming, under their own names.
    const senders = await primary.query<{ application_name: string; state: string }>('select application_name, state from pg_stat_replication order by 1');
    expect(senders).toEqual([
      { application_name: 'standby1', state: 'streaming' },
      { application_name: 'standby2', state: 'streaming' },
    ]);
  });

  it('shows replay lag while a standby holds replay, and none once it caught up', async () => {
    const { primary, standbys } = cluster();
    const standby = standbys[0]!;
    await catchUp(primary, standby);
    const before = await replicationLag(primary, standby);
    expect(before.bytes).toBe(0n);
    await standby.pauseReplay();
    try {
      await primary.query("insert into drill select g, 'bulk' from generate_series(100, 2099) g");
      const behind = await waitFor('the standby to receive WAL it has not replayed', async () => {
        const lag = await replicationLag(primary, standby);
        return lag.bytes > 0n && lag;
      });
      expect(behind.bytes).toBeGreaterThan(10_000n);
      // Still the state before the bulk insert: the last replayed commit is older than the primary's newest.
      expect(await count(standby)).toBe(1);
      const [{ newest }] = (await primary.query<{ newest: Date }>('select now() as newest')) as [{ newest: Date }];
      expect(behind.replayTimestamp!.getTime()).toBeLessThan(newest.getTime());
    } finally {
      await standby.resumeReplay();
    }
    await catchUp(primary, standby);
    expect((await replicationLag(primary, standby)).bytes).toBe(0n);
    expect(await count(standby)).toBe(2001);
  });

  it('promotes a standby; the stopped old primary comes back writable (split brain) until it rejoins as a standby', async () => {
    const { primary: oldPrimary, standbys } = cluster();
    const [promoted, other] = [standbys[0]!, standbys[1]!];
    await catchUp(oldPrimary, promoted);
    await catchUp(oldPrimary, other);

    await oldPrimary.stop('immediate');
    expect(oldPrimary.isRunning()).toBe(false);
    await promoted.promote();
    expect(await promoted.inRecovery()).toBe(false);
    await promoted.query("insert into drill values (3, 'after the failover')");

    // The other standby follows the new primary (its timeline switch is streamed to it).
    await other.stop('fast');
    other.follow(promoted);
    await other.start();
    await catchUp(promoted, other);
    expect((await other.query<{ note: string }>('select note from drill where id = 3'))[0]).toEqual({ note: 'after the failover' });

    // Split brain: started as it was, the old primary is writable and knows nothing of the new one.
    await oldPrimary.start();
    expect(await oldPrimary.inRecovery()).toBe(false);
    await oldPrimary.query("insert into drill values (4, 'split brain')");
    expect(await count(oldPrimary)).toBe(2002);
    expect(await count(promoted)).toBe(2002);

    // Rejoined with pg_rewind, it follows the new primary; its split-brain write is gone.
    await rejoinAsStandby(oldPrimary, promoted, 'rewind');
    expect(await oldPrimary.inRecovery()).toBe(true);
    await catchUp(promoted, oldPrimary);
    expect(await oldPrimary.query('select id from drill where id in (3, 4) order by id')).toEqual([{ id: 3 }]);
    await expect(oldPrimary.query("insert into drill values (5, 'refused')")).rejects.toMatchObject({ code: '25006' });

    // Rebuilt from a fresh base backup, a node follows too.
    await rejoinAsStandby(other, promoted, 'rebuild');
    await promoted.query("insert into drill values (6, 'after the rebuild')");
    await catchUp(promoted, other);
    expect(await other.query('select id from drill where id between 3 and 99 order by id')).toEqual([{ id: 3 }, { id: 6 }]);
  });

  it('survives an immediate stop of a standby and streams again after its restart', async () => {
    const { standbys } = cluster();
    const promoted = standbys[0]!;
    const other = standbys[1]!;
    await other.stop('immediate');
    await promoted.query("insert into drill values (7, 'while the standby was down')");
    await other.start();
    await catchUp(promoted, other);
    expect(await other.query('select note from drill where id = 7')).toEqual([{ note: 'while the standby was down' }]);
  });
});
