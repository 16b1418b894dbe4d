import type Redis from 'ioredis';
import { ServiceStatus } from '../../src/generated/coaching/health/v1/dependency_health';
import { eventsAfter } from '../support/events';
import { renderTable, type ChaosRow } from '../chaos/support/summary';
import { lostAndDuplicated, streamEntries, streamProblems, testRedis } from '../support/eventStream';
import { coachingApi } from '../support/grpcClient';
import { healthApi } from '../support/healthClient';
import { startRedisServer, type RedisServer } from '../support/redisServer';
import { describeWithTools } from '../support/systemTools';
import { useHarness } from '../support/harness';
import type { TestDatabase } from '../support/testDatabase';
import type { TestService } from '../support/testService';
import { waitFor } from '../support/waitFor';
import { world } from '../support/world';

const STREAM = 'coaching.events';

describeWithTools(['redis-server'], 'the relay to Redis Streams', () => {
  let db: TestDatabase;
  let redisServer: RedisServer;
  let redis: Redis;
  let svc: TestService;
  const api = () => coachingApi(svc.client);
  const env = () => ({
    REDIS_URL: redisServer.url,
    EVENTS_RELAY_INTERVAL: '20ms',
    EVENTS_SWEEP_INTERVAL: '100ms',
    DB_HEALTH_CHECK_INTERVAL: '200ms',
    HEALTH_FAILING_CHECK_INTERVAL: '200ms',
  });

  const h = useHarness({
    beforeStart: async () => {
      redisServer = await startRedisServer();
      redis = testRedis(redisServer.url);
    },
    env,
  });
  beforeAll(() => ({ db, svc } = h));
  // Rows of the chaos summary table (README "Quick start": the chaos suite's table; these are the event stream's).
  const rows: ChaosRow[] = [];
  afterAll(async () => {
    if (rows.length > 0) process.stdout.write(`\nChaos summary (events)\n${renderTable(rows)}\n`);
    redis?.disconnect();
    await redisServer?.stop();
  });

  const outboxCount = async () => Number((await db.query('select count(*)::int as n from outbox'))[0]!.n);
  /** Waits until the stream has every outbox event and nothing waits unpublished. */
  const drained = () =>
    waitFor(
      'the outbox to drain to the stream',
      async () => {
        const [row] = await db.query('select count(*)::int as waiting from outbox where published_time is null');
        return row!.waiting === 0 && (await redis.xlen(STREAM)) === (await outboxCount());
      },
      20_000,
    );

  it('publishes every event once, in sequence order, with the envelope as fields and data as protobuf JSON', async () => {
    const w = world(api());
    const { coach, program } = await w.enrolled(2);
    await api().ok('updateProgram', { program: { ...program, title: 'Renamed' }, updateMask: ['title'] });
    await drained();
    const entries = await streamEntries(redis, STREAM);
    expect(streamProblems(entries)).toEqual([]);
    const viaRpc = await eventsAfter(api(), 0n);
    expect(entries.map((e) => e.fields.id)).toEqual(viaRpc.map((e) => e.id));
    const renamed = entries.at(-1)!.fields;
    expect(renamed).toMatchObject({
      specversion: '1.0',
      source: '/coaching-service',
      type: 'coaching.events.v1.ProgramUpdated',
      subject: program.id,
      datacontenttype: 'application/json',
      sequence: String(viaRpc.at(-1)!.sequence),
    });
    expect(renamed.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.parse(renamed.data!)).toMatchObject({ program: { id: program.id, title: 'Renamed', coachId: coach.id }, changedFields: 'title' });
  });

  it('never adds an event twice: a crash between publish and mark is simulated by unmarking everything', async () => {
    await drained();
    const before = await streamEntries(redis, STREAM);
    await db.query('update outbox set published_time = null');
    await drained();
    expect(await streamEntries(redis, STREAM)).toEqual(before);
    // ...and what was never published still goes out, after the skipped ones.
    await world(api()).coach('After');
    await drained();
    expect(streamProblems(await streamEntries(redis, STREAM))).toEqual([]);
  });

  it('keeps serving while Redis is down (redis DEGRADED, not NOT_SERVING), then drains the backlog in order: 0 lost, 0 duplicated', async () => {
    const health = healthApi(svc.service.port);
    const w = world(api());
    const failures: string[] = [];
    let writes = 0;
    let stoppedAt = 0;
    let detectedAt = 0;
    let restartedAt = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await w.coach('Load').then(
          () => (writes += 1),
          (error: Error) => failures.push(error.message),
        );
      }
    })();
    try {
      await waitFor('writes before the outage', () => writes >= 5);
      stoppedAt = Date.now();
      await redisServer.stop();
      const during = writes;
      const degraded = await waitFor('GetHealth to show redis down', async () => {
        const report = await health.ok('getHealth', {});
        const dep = report.dependencies.find((d) => d.name === 'redis');
        return dep !== undefined && dep.status !== ServiceStatus.SERVICE_STATUS_HEALTHY && report.dependencies.length > 1 ? { report, dep } : undefined;
      });
      expect(degraded.dep.isCritical).toBe(false);
      detectedAt = Date.now();
      expect(degraded.report.status).toBe(ServiceStatus.SERVICE_STATUS_DEGRADED);
      expect(degraded.dep.status).toBe(ServiceStatus.SERVICE_STATUS_UNHEALTHY);
      await waitFor('writes during the outage', () => writes >= during + 10);
      await redisServer.start();
      restartedAt = Date.now();
    } finally {
      stop = true;
      await load;
      health.client.close();
    }
    await drained();
    const drainedAt = Date.now();
    const entries = await streamEntries(redis, STREAM);
    const outboxIds = (await db.query<{ id: string }>('select id from outbox order by sequence')).map((r) => r.id);
    rows.push({
      scenario: 'Redis stopped under write load + restarted',
      calls: writes + failures.length,
      detectS: (detectedAt - stoppedAt) / 1000,
      recoverS: (drainedAt - restartedAt) / 1000,
      failedByCode: failures.length === 0 ? {} : { FAILED: failures.length },
      ...lostAndDuplicated(entries, outboxIds),
    });
    expect(failures).toEqual([]);
    expect(streamProblems(entries)).toEqual([]);
    expect(entries.map((e) => e.fields.id)).toEqual(outboxIds);
  });

  it('two relaying instances on one database and stream put each event on it once', async () => {
    const second = await h.start(env());
    try {
      const w1 = world(api());
      const w2 = world(coachingApi(second.client));
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? w1 : w2).coach('Twin')));
      // Both race on an unmarked backlog too.
      await db.query('update outbox set published_time = null');
      await drained();
      const entries = await streamEntries(redis, STREAM);
      const outboxIds = (await db.query<{ id: string }>('select id from outbox order by sequence')).map((r) => r.id);
      rows.push({ scenario: 'two relaying instances (+ unmarked backlog)', calls: 6, failedByCode: {}, ...lostAndDuplicated(entries, outboxIds) });
      expect(streamProblems(entries)).toEqual([]);
      expect(entries).toHaveLength(await outboxCount());
    } finally {
      await second.stop();
    }
  });
});
