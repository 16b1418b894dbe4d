/**
 * The failover suite through PgBouncer: one Debian PgBouncer 1.18 in
 * transaction pooling in front of each server of a PostgreSQL 15 primary and
 * standby, the service given both poolers as its DB_HOST list
 * (DB_POOL_MODE=transaction, migrations over DB_MIGRATION_URL). Stopping the
 * primary leaves reads working from the standby's pooler and writes failing
 * fast; promoting the standby brings writes back without a reload.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/config';
import { expectError } from './support/errorDetails';
import { emailsOn, FAST_FAILOVER_ENV } from './support/failoverDrill';
import { coachingApi } from './support/grpcClient';
import { startPgBouncer, type PgBouncer } from './support/pgbouncer';
import { newProfile } from './support/profiles';
import { catchUp, useReplicationCluster } from './support/replication';
import { describeWithTools } from './support/systemTools';
import { serviceEnv } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const cluster = useReplicationCluster({ standbys: 1 });
const role = `coaching_pgb_${randomBytes(4).toString('hex')}`;
const password = `pw-${randomBytes(8).toString('hex')}`;

describeWithTools(['pgbouncer', 'postgresql-15'], 'failover through PgBouncer in transaction pooling', () => {
  const bouncers: PgBouncer[] = [];
  let svc: TestService;
  let api: ReturnType<typeof coachingApi>;

  beforeAll(async () => {
    const { primary, standbys } = cluster();
    await primary.query(`create role ${role} login password '${password}'`);
    await primary.query(`create database coaching owner ${role}`);
    // The runbook's role defaults: behind a transaction pooler nothing is sent as a startup parameter.
    for (const setting of [
      `search_path = "public"`,
      `TimeZone = 'UTC'`,
      `DateStyle = 'ISO, MDY'`,
      `statement_timeout = '5s'`,
      `idle_in_transaction_session_timeout = '5s'`,
    ]) {
      await primary.query(`alter role ${role} in database coaching set ${setting}`);
    }
    for (const node of [primary, standbys[0]!]) {
      bouncers.push(await startPgBouncer({ server: { host: '127.0.0.1', port: node.port }, user: role, password, poolMode: 'transaction', poolSize: 5 }));
    }
    const hosts = bouncers.map((b) => `127.0.0.1:${b.port}`).join(',');
    const config = loadConfig({
      env: serviceEnv(`postgresql://${role}:${password}@${hosts}/coaching`, {
        DB_POOL_MODE: 'transaction',
        DB_MIGRATION_URL: `postgresql://${role}:${password}@127.0.0.1:${primary.port}/coaching`,
        DB_STATEMENT_TIMEOUT: '5',
        ...FAST_FAILOVER_ENV,
      }),
    });
    svc = await startTestService(config);
    api = coachingApi(svc.client);
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    for (const b of bouncers) await b.stop();
  });

  it('reads from the standby through its pooler while the primary is down, writes fail fast, and a promoted standby takes the writes', async () => {
    const { primary, standbys } = cluster();
    const standby = standbys[0]!;
    const prefix = `pgb-${randomUUID().slice(0, 8)}`;
    const before = await api.ok('createProfile', { profile: newProfile({ email: `${prefix}-before@example.com` }), requestId: randomUUID() });
    const first = await api.call('getProfile', { id: before.profile!.id });
    expect(first.headers?.get('x-data-source')).toEqual([]);
    await catchUp(primary, standby);

    await primary.stop('fast');
    const read = await waitFor('a read served by the standby', async () => {
      const r = await api.call('getProfile', { id: before.profile!.id });
      return r.error === undefined && r.headers?.get('x-data-source')[0] === 'standby' && r;
    });
    expect(read.response!.profile!.email).toBe(`${prefix}-before@example.com`);
    expect(read.headers?.get('x-data-source-endpoint')).toEqual([`127.0.0.1:${bouncers[1]!.port}`]);
    const started = performance.now();
    expectError(
      await api.call('createProfile', { profile: newProfile({ email: `${prefix}-refused@example.com` }), requestId: randomUUID() }),
      status.UNAVAILABLE,
      'PRIMARY_UNAVAILABLE',
    );
    expect(performance.now() - started).toBeLessThan(5_000);

    await standby.promote();
    const write = await waitFor(
      'a write through the promoted standby',
      async () => {
        const r = await api.call('createProfile', { profile: newProfile({ email: `${prefix}-after@example.com` }), requestId: randomUUID() });
        return r.error === undefined && r;
      },
      30_000,
    );
    expect(write.response!.profile!.id).not.toBe('');
    expect(await emailsOn(standby, prefix)).toEqual([`${prefix}-after@example.com`, `${prefix}-before@example.com`]);
    expect(svc.service.endpoints.views().map((v) => v.role)).toEqual(['unreachable', 'primary']);
  }, 90_000);
});
