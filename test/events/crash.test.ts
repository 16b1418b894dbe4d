import { createServer } from 'node:net';
import { Client } from 'pg';
import type Redis from 'ioredis';
import { renderTable } from '../chaos/support/summary';
import { lostAndDuplicated, streamEntries, streamProblems, testRedis } from '../support/eventStream';
import { coachingApi, coachingClient } from '../support/grpcClient';
import { childEnv, ensureBuilt, startNode, type NodeProcess } from '../support/processes';
import { startRedisServer, type RedisServer } from '../support/redisServer';
import { waitUntilServing } from '../support/serving';
import { describeWithTools } from '../support/systemTools';
import { useHarness } from '../support/harness';
import type { TestDatabase } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';
import { world } from '../support/world';

const STREAM = 'coaching.events';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describeWithTools(['redis-server'], 'the service killed between publish and mark', () => {
  let db: TestDatabase;
  let redisServer: RedisServer;
  let redis: Redis;
  const h = useHarness({ service: false });
  beforeAll(async () => {
    ensureBuilt();
    ({ db } = h);
    redisServer = await startRedisServer();
    redis = testRedis(redisServer.url);
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
  });

  async function startProcess(): Promise<{ service: NodeProcess; port: number }> {
    const port = await freePort();
    const service = startNode(
      'dist/src/main.js',
      [],
      childEnv({
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(port),
        DATABASE_URL: db.url,
        METRICS_ENABLED: 'false',
        ADMIN_GRPC_ENABLED: 'false',
        REDIS_URL: redisServer.url,
        EVENTS_RELAY_INTERVAL: '20ms',
      }),
    );
    await waitUntilServing(service, port);
    return { service, port };
  }

  it('SIGKILL after XADD and before the outbox is marked: the restarted service adds no duplicate', async () => {
    await redisServer.stop();
    const first = await startProcess();
    const client = coachingClient(first.port);
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    try {
      // Redis is down: the events wait in the outbox.
      for (let i = 0; i < 5; i++) await world(coachingApi(client)).coach(`Crash${i}`);
      // Marking them published will wait for these row locks; publishing does not.
      await blocker.query('begin');
      const locked = await blocker.query('select sequence from outbox where published_time is null for update');
      expect(locked.rows).toHaveLength(5);
      await redisServer.start();
      await waitFor('the relay to publish the batch', async () => (await redis.xlen(STREAM).catch(() => 0)) === 5, 20_000);
      const [row] = (await blocker.query('select count(*)::int as n from outbox where published_time is null')).rows as [{ n: number }];
      expect(row.n).toBe(5);
      first.service.child.kill('SIGKILL');
      await first.service.exited(10_000);
    } finally {
      client.close();
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
    }
    // The killed relay's mark never committed.
    await waitFor(
      'the killed relay transaction to end',
      async () => (await db.query('select count(*)::int as n from outbox where published_time is null'))[0]!.n === 5,
    );
    const before = await streamEntries(redis, STREAM);

    const second = await startProcess();
    const client2 = coachingClient(second.port);
    try {
      await world(coachingApi(client2)).coach('AfterRestart');
      await waitFor('the restarted relay to drain the outbox', async () => {
        const [waiting] = await db.query('select count(*)::int as n from outbox where published_time is null');
        return waiting!.n === 0;
      });
      const after = await streamEntries(redis, STREAM);
      expect(streamProblems(after)).toEqual([]);
      expect(after.slice(0, 5)).toEqual(before);
      expect(after).toHaveLength(6);
      const outboxIds = (await db.query<{ id: string }>('select id from outbox order by sequence')).map((r) => r.id);
      const row = { scenario: 'service SIGKILL between XADD and mark, restarted', calls: 6, failedByCode: {}, ...lostAndDuplicated(after, outboxIds) };
      process.stdout.write(`\nChaos summary (events)\n${renderTable([row])}\n`);
      expect(after.map((e) => e.fields.id)).toEqual(outboxIds);
    } finally {
      client2.close();
      second.service.child.kill('SIGTERM');
      await second.service.exited(20_000);
    }
  }, 90_000);
});
