/**
 * The service on a real PostgreSQL 15 primary and streaming standby, given
 * both as one libpq multi-host DATABASE_URL: reads survive the primary
 * (served by the standby, and saying so), writes fail fast with
 * PRIMARY_UNAVAILABLE, readiness stays SERVING; a promoted standby takes the
 * writes without a reload; the old primary back as writable is fenced.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/config';
import { ServiceStatus } from '../src/generated/coaching/health/v1/dependency_health';
import { ListProfilesRequest } from '../src/generated/coaching/v1/coaching_service';
import { expectError } from './support/errorDetails';
import { coachingApi } from './support/grpcClient';
import { check, healthApi, probeClient } from './support/healthClient';
import { newProfile } from './support/profiles';
import { catchUp, useReplicationCluster, type PgNode } from './support/replication';
import { describeWithTools } from './support/systemTools';
import { serviceEnv } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { renderTable, type ChaosRow } from './chaos/support/summary';
import { world } from './support/world';
import { sample, scrape } from './support/promtool';
import { adminApi } from './support/adminClient';
import { emailsOn, FAST_FAILOVER_ENV, failoverDrill } from './support/failoverDrill';

const cluster = useReplicationCluster({ standbys: 1 });
const rows: ChaosRow[] = [];

describeWithTools(['postgresql-15'], 'failover across a primary and a standby (PostgreSQL 15)', () => {
  let svc: TestService;
  let api: ReturnType<typeof coachingApi>;
  let health: ReturnType<typeof healthApi>;
  let probe: ReturnType<typeof probeClient>;

  beforeAll(async () => {
    const { primary, standbys } = cluster();
    await primary.query('create database coaching');
    const url = `postgresql://postgres@127.0.0.1:${primary.port},127.0.0.1:${standbys[0]!.port}/coaching`;
    const config = loadConfig({
      env: serviceEnv(url, {
        ...FAST_FAILOVER_ENV,
        DB_RETRY_MAX_ATTEMPTS: '1',
      }),
    });
    expect(config.db.endpoints).toEqual([
      { host: '127.0.0.1', port: primary.port },
      { host: '127.0.0.1', port: standbys[0]!.port },
    ]);
    svc = await startTestService(config);
    api = coachingApi(svc.client);
    health = healthApi(svc.service.port);
    probe = probeClient(svc.service.port);
  }, 120_000);

  afterAll(async () => {
    health?.client.close();
    probe?.close();
    await svc?.stop();
    process.stdout.write(`\nChaos summary (failover)\n${renderTable(rows)}\n`);
  });

  const emails = (node: PgNode, prefix: string): Promise<string[]> => emailsOn(node, prefix);
  const dependency = async (name: string) => {
    const report = await health.ok('getHealth', {});
    return { report, entry: report.dependencies.find((d) => d.name === name) };
  };

  it('sends reads and writes to the primary while it is healthy, and shows both endpoints with the standby lag', async () => {
    const { primary, standbys } = cluster();
    const created = await api.call('createProfile', { profile: newProfile(), requestId: randomUUID() });
    expect(created.error).toBeUndefined();
    const read = await api.call('getProfile', { id: created.response!.profile!.id });
    expect(read.error).toBeUndefined();
    expect(read.headers?.get('x-data-source')).toEqual([]);
    const standbyName = `postgresql-127-0-0-1-${standbys[0]!.port}`;
    const { report, entry } = await waitFor('the standby entry in GetHealth', async () => {
      const found = await dependency(standbyName);
      return found.entry?.message.startsWith('Standby: replayed up to') === true && found;
    });
    expect(report.status).toBe(ServiceStatus.SERVICE_STATUS_HEALTHY);
    expect(entry).toMatchObject({ isCritical: false, status: ServiceStatus.SERVICE_STATUS_HEALTHY });
    expect(entry!.message).toMatch(/bytes behind/);
    expect(report.dependencies.find((d) => d.name === 'postgresql-primary')).toMatchObject({ isCritical: true, status: ServiceStatus.SERVICE_STATUS_HEALTHY });
    expect(report.dependencies.find((d) => d.name === `postgresql-127-0-0-1-${primary.port}`)?.message).toMatch(/^Primary/);

    // Lag: with replay held, the standby's entry counts the bytes it has not replayed.
    await standbys[0]!.pauseReplay();
    await primary.query('create table lag_probe as select g from generate_series(1, 5000) g');
    const behind = await waitFor('the standby entry to show unreplayed bytes', async () => {
      const found = await dependency(standbyName);
      const bytes = /(\d+) bytes behind/.exec(found.entry?.message ?? '')?.[1];
      return bytes !== undefined && Number(bytes) > 0 && Number(bytes);
    });
    expect(behind).toBeGreaterThan(0);
    const { text } = await scrape(svc.service.metricsPort!);
    expect(sample(text, 'coaching_db_replication_lag_bytes', { endpoint: `127.0.0.1:${standbys[0]!.port}` })).toBeGreaterThan(0);
    expect(sample(text, 'coaching_db_replication_replay_timestamp_seconds', { endpoint: `127.0.0.1:${standbys[0]!.port}` })).toBeGreaterThan(0);
    expect(sample(text, 'coaching_db_endpoint_role', { endpoint: `127.0.0.1:${primary.port}`, role: 'primary' })).toBe(1);
    expect(sample(text, 'coaching_db_endpoint_role', { endpoint: `127.0.0.1:${standbys[0]!.port}`, role: 'standby' })).toBe(1);
    // A lagging standby changes nothing for clients: reads come from the primary, with the latest write.
    const fresh = await api.ok('createProfile', { profile: newProfile(), requestId: randomUUID() });
    const latest = await api.call('getProfile', { id: fresh.profile!.id });
    expect(latest.error).toBeUndefined();
    expect(latest.headers?.get('x-data-source')).toEqual([]);
    await standbys[0]!.resumeReplay();
    await catchUp(primary, standbys[0]!);

    // A standby the service cannot reach changes nothing for clients either: GetHealth DEGRADED, readiness SERVING.
    await standbys[0]!.stop('fast');
    try {
      const degraded = await waitFor('GetHealth DEGRADED for the standby', async () => {
        const report = await health.ok('getHealth', {});
        return report.status === ServiceStatus.SERVICE_STATUS_DEGRADED && report;
      });
      expect(degraded.message).toContain(`${standbyName} UNHEALTHY (non-critical)`);
      expect((await check(probe, 'readiness')).status).toBe('SERVING');
      const written = await api.ok('createProfile', { profile: newProfile(), requestId: randomUUID() });
      const again = await api.call('getProfile', { id: written.profile!.id });
      expect(again.headers?.get('x-data-source')).toEqual([]);
    } finally {
      await standbys[0]!.start();
    }
    await catchUp(primary, standbys[0]!);
    await waitFor(
      'the standby readable again',
      () => svc.service.endpoints.views().find((v) => v.key === `127.0.0.1:${standbys[0]!.port}`)?.role === 'standby',
    );
  });

  it('serves reads from the standby while the primary is down, and says so; writes fail fast with PRIMARY_UNAVAILABLE; readiness stays SERVING', async () => {
    const { primary, standbys } = cluster();
    const standby = standbys[0]!;
    const before = await api.ok('createProfile', { profile: newProfile({ email: `outage-${randomUUID().slice(0, 8)}@example.com` }), requestId: randomUUID() });
    const { participant, program } = await world(api).enrolled(2);
    await catchUp(primary, standby);
    const standbyCounts = await standby.query<{ n: number }>('select count(*)::int as n from profiles', [], 'coaching');

    await primary.stop('fast');
    // Every read works, from the standby, and each response says so.
    const read = await waitFor('a read served by the standby', async () => {
      const r = await api.call('getProfile', { id: before.profile!.id });
      return r.error === undefined && r;
    });
    expect(read.response!.profile!.email).toBe(before.profile!.email);
    expect(read.headers?.get('x-data-source')).toEqual(['standby']);
    expect(read.headers?.get('x-data-source-endpoint')).toEqual([`127.0.0.1:${standby.port}`]);
    const listed = await api.call('listProfiles', ListProfilesRequest.fromPartial({ pageSize: 100 }));
    expect(listed.error).toBeUndefined();
    expect(listed.headers?.get('x-data-source')).toEqual(['standby']);
    // read_time is the standby's last replayed commit, not its clock.
    const progress = await api.call('getProgramProgress', { participantId: participant.id, programId: program.id });
    expect(progress.error).toBeUndefined();
    expect(progress.headers?.get('x-data-source')).toEqual(['standby']);
    const [{ replayed }] = (await standby.query<{ replayed: Date }>('select pg_last_xact_replay_timestamp() as replayed')) as [{ replayed: Date }];
    const readTime = progress.response!.progress!.readTime!;
    expect(Number(readTime.seconds) * 1000 + Math.floor(readTime.nanos / 1e6)).toBe(replayed.getTime());

    // Writes fail fast and clearly, with RetryInfo.
    const started = performance.now();
    const write = await api.call('createProfile', { profile: newProfile({ email: 'never-written@example.com' }), requestId: randomUUID() });
    const writeMs = performance.now() - started;
    const details = expectError(write, status.UNAVAILABLE, 'PRIMARY_UNAVAILABLE');
    expect(details.retryInfo?.retryDelay).toBeDefined();
    expect(writeMs).toBeLessThan(5_000);
    // A caller that needs the latest data opts out of the standby.
    expectError(
      await api.call('getProfile', { id: before.profile!.id }, { metadata: { 'x-require-primary': 'true' } }),
      status.UNAVAILABLE,
      'PRIMARY_UNAVAILABLE',
    );

    const ready = await waitFor('GetHealth DEGRADED with the reason', async () => {
      const report = await health.ok('getHealth', {});
      return report.status === ServiceStatus.SERVICE_STATUS_DEGRADED && report;
    });
    expect(ready.message).toMatch(/postgresql-primary UNHEALTHY \(reads served by standby 127\.0\.0\.1:\d+; writes unavailable\)/);
    expect((await check(probe, 'readiness')).status).toBe('SERVING');
    expect((await check(probe, 'coaching.v1.CoachingService')).status).toBe('SERVING');
    // Nothing was written anywhere.
    expect(await standby.query<{ n: number }>('select count(*)::int as n from profiles', [], 'coaching')).toEqual(standbyCounts);

    // Primary back: reads return to it, writes succeed.
    await primary.start();
    const back = await waitFor(
      'a write on the primary again',
      async () => {
        const r = await api.call('createProfile', { profile: newProfile(), requestId: randomUUID() });
        return r.error === undefined && r;
      },
      30_000,
    );
    expect(back.response!.profile!.id).not.toBe('');
    const again = await waitFor('a read served by the primary', async () => {
      const r = await api.call('getProfile', { id: before.profile!.id });
      return r.error === undefined && r.headers?.get('x-data-source').length === 0 && r;
    });
    expect(again.response!.profile!.id).toBe(before.profile!.id);
    expect(await emails(primary, 'never-written')).toEqual([]);
  }, 60_000);

  it('follows a promoted standby without a reload: writes resume, acknowledged writes keep their request_id, the old primary back as writable is fenced', async () => {
    const { primary: oldPrimary, standbys } = cluster();
    const promoted = standbys[0]!;
    const prefix = `failover-${randomUUID().slice(0, 8)}`;
    // Writes acknowledged before the failover, replicated.
    const acknowledged = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const requestId = randomUUID();
      const r = await api.ok('createProfile', { profile: newProfile({ email: `${prefix}-before-${i}@example.com` }), requestId });
      acknowledged.set(requestId, r.profile!.id);
    }
    await catchUp(oldPrimary, promoted);

    // Load while the primary dies and the standby is promoted, through the typed client (it retries with the request_id).
    const row = await failoverDrill({ scenario: 'failover: primary killed, standby promoted (async)', port: svc.service.port, oldPrimary, promoted, prefix });
    rows.push(row);
    const { toFirstWriteS } = row;
    expect(toFirstWriteS).toBeLessThan(20);
    expect(svc.service.endpoints.views().find((v) => v.key === `127.0.0.1:${promoted.port}`)?.role).toBe('primary');

    // Retried after the switch with the same request_id: the same profiles, nothing applied twice.
    for (const [requestId, id] of acknowledged) {
      const i = [...acknowledged.keys()].indexOf(requestId);
      const r = await api.ok('createProfile', { profile: newProfile({ email: `${prefix}-before-${i}@example.com` }), requestId });
      expect(r.profile!.id).toBe(id);
    }
    expect(await emails(promoted, `${prefix}-before-`)).toHaveLength(5);
    // Nothing applied twice: no retry of an applied write was refused instead of answered from its request_id.
    expect(row.duplicated).toBe(0);
    // Acknowledged but missing on the new primary is measured (asynchronous replication may lose them), not asserted.

    // The old primary comes back writable (split brain): never written to.
    await oldPrimary.start();
    expect(await oldPrimary.inRecovery()).toBe(false);
    const oldName = `postgresql-127-0-0-1-${oldPrimary.port}`;
    await waitFor('the old primary reported as fenced', async () => (await dependency(oldName)).entry?.message.startsWith('Fenced') === true);
    const oldBefore = await oldPrimary.query<{ n: number }>('select count(*)::int as n from profiles', [], 'coaching');
    for (let i = 0; i < 5; i++) await api.ok('createProfile', { profile: newProfile({ email: `${prefix}-after-${i}@example.com` }), requestId: randomUUID() });
    expect(await emails(oldPrimary, `${prefix}-after-`)).toEqual([]);
    expect(await oldPrimary.query<{ n: number }>('select count(*)::int as n from profiles', [], 'coaching')).toEqual(oldBefore);
    expect(await emails(promoted, `${prefix}-after-`)).toHaveLength(5);
    expect(svc.service.endpoints.views().find((v) => v.key === `127.0.0.1:${oldPrimary.port}`)?.role).toBe('fenced');
  }, 120_000);

  it('lets an operator choose the fenced old primary on the admin listener (the fencing override), audited', async () => {
    const { primary: oldPrimary, standbys } = cluster();
    const promoted = standbys[0]!;
    const admin = adminApi(svc.service.adminPort!);
    try {
      const listed = await admin.ok('listDatabaseEndpoints', {});
      expect(listed.endpoints).toEqual([
        { endpoint: `127.0.0.1:${oldPrimary.port}`, role: 'fenced' },
        { endpoint: `127.0.0.1:${promoted.port}`, role: 'primary' },
      ]);
      const generation = Number(listed.generation);
      expect((await admin.call('chooseDatabasePrimary', { endpoint: '127.0.0.1:1', reason: '' })).error?.code).toBe(status.NOT_FOUND);
      const invalid = await admin.call('chooseDatabasePrimary', { endpoint: '', reason: '' });
      expect(invalid.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(invalid.error?.details).toContain('endpoint');

      const chosen = await admin.ok('chooseDatabasePrimary', { endpoint: `127.0.0.1:${oldPrimary.port}`, reason: 'keep the old copy (drill)' });
      expect(Number(chosen.generation)).toBe(generation + 1);
      await waitFor(
        'the old primary in service again',
        () => svc.service.endpoints.views().find((v) => v.key === `127.0.0.1:${oldPrimary.port}`)?.role === 'primary',
      );
      const prefix = `chosen-${randomUUID().slice(0, 8)}`;
      await waitFor(
        'a write on the chosen primary',
        async () => (await api.call('createProfile', { profile: newProfile({ email: `${prefix}@example.com` }), requestId: randomUUID() })).error === undefined,
      );
      expect(await emails(oldPrimary, prefix)).toEqual([`${prefix}@example.com`]);
      expect(await emails(promoted, prefix)).toEqual([]);
      expect(svc.service.endpoints.views().find((v) => v.key === `127.0.0.1:${promoted.port}`)?.role).toBe('fenced');
      const audit = svc.logs.records().find((r) => r.audit === true && r.action === 'choose-database-primary' && r.outcome === 'ok');
      expect(audit).toMatchObject({ target: `127.0.0.1:${oldPrimary.port}`, before: 'fenced', after: 'primary' });
    } finally {
      admin.client.close();
    }
  }, 60_000);
});
