import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { ServiceStatus } from '../../src/generated/coaching/health/v1/dependency_health';
import { testRedis } from '../support/eventStream';
import { coachingApi } from '../support/grpcClient';
import { healthApi } from '../support/healthClient';
import { startRedisServer, type RedisServer } from '../support/redisServer';
import { describeWithTools } from '../support/systemTools';
import { useHarness } from '../support/harness';
import type { TestDatabase } from '../support/testDatabase';
import { startTestService } from '../support/testService';
import { waitFor } from '../support/waitFor';
import { world } from '../support/world';

const PASSWORD = 'redis-pass-7f3a9c';

describeWithTools(['redis-server'], 'a Redis that requires a password', () => {
  let db: TestDatabase;
  let redisServer: RedisServer;
  let redis: Redis;
  const passwordFile = (content: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'redis-pw-')), 'password');
    writeFileSync(file, `${content}\n`);
    return file;
  };
  const h = useHarness({ service: false });
  beforeAll(async () => {
    ({ db } = h);
    redisServer = await startRedisServer({ password: PASSWORD });
    redis = testRedis(`redis://:${PASSWORD}@127.0.0.1:${redisServer.port}`);
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
  });

  it('relays with the password from REDIS_PASSWORD_FILE, which no log line shows', async () => {
    const svc = await startTestService(db.config({ REDIS_URL: redisServer.url, REDIS_PASSWORD_FILE: passwordFile(PASSWORD), EVENTS_RELAY_INTERVAL: '20ms' }));
    try {
      await world(coachingApi(svc.client)).coach('Authed');
      await waitFor('the event on the stream', async () => (await redis.xlen('coaching.events')) >= 1);
      expect(svc.logs.lines.join('\n')).not.toContain(PASSWORD);
    } finally {
      await svc.stop();
    }
  });

  it('with a wrong password: redis UNHEALTHY and non-critical, every RPC still served, events kept in the outbox', async () => {
    const svc = await startTestService(
      db.config({
        REDIS_URL: redisServer.url,
        REDIS_PASSWORD_FILE: passwordFile('wrong-password'),
        DB_HEALTH_CHECK_INTERVAL: '200ms',
        HEALTH_FAILING_CHECK_INTERVAL: '200ms',
      }),
    );
    const health = healthApi(svc.service.port);
    try {
      const before = await redis.xlen('coaching.events');
      const coach = await world(coachingApi(svc.client)).coach('Unrelayed');
      const report = await waitFor('GetHealth to show redis failing', async () => {
        const r = await health.ok('getHealth', {});
        return r.dependencies.find((d) => d.name === 'redis')?.status === ServiceStatus.SERVICE_STATUS_UNHEALTHY ? r : undefined;
      });
      expect(report.status).toBe(ServiceStatus.SERVICE_STATUS_DEGRADED);
      const [row] = await db.query('select published_time from outbox where subject = $1', [coach.id]);
      expect(row).toEqual({ published_time: null });
      expect(await redis.xlen('coaching.events')).toBe(before);
      expect(svc.logs.lines.join('\n')).not.toContain('wrong-password');
    } finally {
      health.client.close();
      await svc.stop();
    }
  });
});
