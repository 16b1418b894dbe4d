import { status } from '@grpc/grpc-js';
import type Redis from 'ioredis';
import { adminApi } from '../support/adminClient';
import { expectError } from '../support/errorDetails';
import { streamEntries, streamProblems, testRedis, toEntries } from '../support/eventStream';
import { coachingApi } from '../support/grpcClient';
import { startRedisServer, type RedisServer } from '../support/redisServer';
import { describeWithTools } from '../support/systemTools';
import { useHarness } from '../support/harness';
import type { TestService } from '../support/testService';
import { waitFor } from '../support/waitFor';
import { world } from '../support/world';

const STREAM = 'coaching.events';
const DEAD = `${STREAM}.dead-letter`;
const GROUP = 'notifications';
const MAX_DELIVERIES = 2;

describeWithTools(['redis-server'], 'dead letters', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  let svc: TestService;
  let admin: ReturnType<typeof adminApi>;

  const h = useHarness({
    beforeStart: async () => {
      redisServer = await startRedisServer();
      redis = testRedis(redisServer.url);
      await redis.xgroup('CREATE', STREAM, GROUP, '0', 'MKSTREAM');
    },
    env: () => ({
      REDIS_URL: redisServer.url,
      EVENTS_RELAY_INTERVAL: '20ms',
      EVENTS_SWEEP_INTERVAL: '50ms',
      EVENTS_DEAD_LETTER_AFTER: '50ms',
      EVENTS_MAX_DELIVERIES: String(MAX_DELIVERIES),
    }),
    setup: ({ svc }) => {
      admin = adminApi(svc.service.adminPort!);
    },
    teardown: () => admin?.client.close(),
  });
  beforeAll(() => ({ svc } = h));
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
  });

  const audits = (action: string) => svc.logs.records().filter((r) => r.audit === true && r.action === action);
  const pendingCount = async () => Number(((await redis.xpending(STREAM, GROUP)) as [number])[0]);
  const deadLetterIds = async () => (await streamEntries(redis, DEAD)).map((e) => e.entryId);

  /** A write whose event a consumer that never acknowledges receives until it is dead-lettered; the event's stream entry. */
  async function poisoned(): Promise<{ entryId: string; eventId: string }> {
    await world(coachingApi(svc.client)).coach('Poison');
    const [[, delivered = []] = []] = ((await redis.xreadgroup('GROUP', GROUP, 'poison', 'BLOCK', 5000, 'STREAMS', STREAM, '>')) ?? []) as [
      string,
      [string, string[]][],
    ][];
    const [entry] = toEntries(delivered);
    if (entry === undefined) throw new Error('the consumer received nothing');
    // A consumer that crashes before it acknowledges: it reads its pending entries again, each read one more delivery.
    for (let delivery = 2; delivery <= MAX_DELIVERIES + 1; delivery++) await redis.xreadgroup('GROUP', GROUP, 'poison', 'STREAMS', STREAM, '0');
    return { entryId: entry.entryId, eventId: entry.fields.id! };
  }

  it('moves an entry delivered more than EVENTS_MAX_DELIVERIES times to the dead-letter stream, acknowledged in its group', async () => {
    const { entryId, eventId } = await poisoned();
    await waitFor('the sweeper to dead-letter the entry', async () => (await deadLetterIds()).length === 1);
    expect(await pendingCount()).toBe(0);
    const listed = await admin.ok('listDeadLetters', { pageSize: 0, pageToken: '' });
    expect(listed.deadLetters).toHaveLength(1);
    expect(listed.deadLetters[0]).toMatchObject({
      group: GROUP,
      deliveryCount: String(MAX_DELIVERIES + 1),
      lastConsumer: 'poison',
      sourceEntryId: entryId,
      fields: expect.objectContaining({ id: eventId, type: 'coaching.events.v1.ProfileCreated' }),
    });
    expect(listed.nextPageToken).toBe('');
    // The metrics say so too.
    const text = await (await fetch(`http://127.0.0.1:${svc.service.metricsPort}/metrics`)).text();
    expect(text).toMatch(/^coaching_events_dead_letters 1$/m);
    expect(text).toMatch(new RegExp(`^coaching_events_dead_lettered_total\\{group="${GROUP}"\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^coaching_events_stream_pending\\{group="${GROUP}"\\} 0$`, 'm'));
    expect(text).toMatch(/^coaching_events_stream_length \d+$/m);
  });

  it('replays a dead letter for its group and discards another; both audited', async () => {
    const [letterId] = await deadLetterIds();
    const replayed = await admin.ok('replayDeadLetter', { id: letterId!, reason: 'fixed the template' });
    expect(await deadLetterIds()).toEqual([]);
    const entries = await streamEntries(redis, STREAM);
    const back = entries.find((e) => e.entryId === replayed.entryId)!;
    expect(back.fields).toMatchObject({ id: replayed.deadLetter!.fields.id, replaygroup: GROUP });
    // A healthy consumer of the group gets it, and acknowledges it.
    const read = ((await redis.xreadgroup('GROUP', GROUP, 'healthy', 'COUNT', 10, 'STREAMS', STREAM, '>')) ?? []) as [string, [string, string[]][]][];
    const got = toEntries(read[0]?.[1] ?? []);
    expect(got.map((e) => e.entryId)).toEqual([replayed.entryId]);
    await redis.xack(STREAM, GROUP, replayed.entryId);
    expect(audits('replay-dead-letter')).toEqual([
      expect.objectContaining({ outcome: 'ok', target: DEAD, deadLetterId: letterId, before: 'dead-letter', after: 'replayed', reason: 'fixed the template' }),
    ]);

    // The relay goes on above the replayed entry.
    await poisoned();
    await waitFor('the second dead letter', async () => (await deadLetterIds()).length === 1);
    expect(streamProblems(await streamEntries(redis, STREAM))).toEqual([]);
    const [second] = await deadLetterIds();
    const discarded = await admin.ok('discardDeadLetter', { id: second!, reason: '' });
    expect(discarded.deadLetter!.id).toBe(second);
    expect(await deadLetterIds()).toEqual([]);
    expect(audits('discard-dead-letter')).toEqual([expect.objectContaining({ outcome: 'ok', target: DEAD, deadLetterId: second, after: 'discarded' })]);
    expectError(await admin.call('discardDeadLetter', { id: second!, reason: '' }), status.NOT_FOUND, 'NOT_FOUND');
    expectError(await admin.call('replayDeadLetter', { id: second!, reason: '' }), status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses invalid requests naming the field, and touches nothing', async () => {
    const lengthBefore = await redis.xlen(STREAM);
    for (const [method, request, field] of [
      ['replayDeadLetter', { id: '', reason: '' }, 'id'],
      ['replayDeadLetter', { id: 'not-an-id', reason: '' }, 'id'],
      ['discardDeadLetter', { id: '1-0', reason: 'two\nlines' }, 'reason'],
      ['listDeadLetters', { pageSize: -1, pageToken: '' }, 'page_size'],
      ['listDeadLetters', { pageSize: 1, pageToken: 'garbage' }, 'page_token'],
    ] as const) {
      const result = await admin.call(method, request as never);
      expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      expect(result.error!.details).toContain(field);
    }
    expect(await redis.xlen(STREAM)).toBe(lengthBefore);
  });

  it('refuses stream entry ids beyond 64 bits as INVALID_ARGUMENT, and they do not open the Redis breaker', async () => {
    // Digits-dash-digits but above 2^64-1: Redis itself would refuse them ("Invalid stream ID").
    const huge = '18446744073709551616-0';
    const last = '18446744073709551615-18446744073709551615';
    for (let round = 0; round < 3; round++) {
      for (const [method, request, field] of [
        ['replayDeadLetter', { id: huge, reason: '' }, 'id'],
        ['discardDeadLetter', { id: '1-99999999999999999999', reason: '' }, 'id'],
        ['listDeadLetters', { pageSize: 1, pageToken: huge }, 'page_token'],
        // Nothing can follow the last possible id, so no page ends there.
        ['listDeadLetters', { pageSize: 1, pageToken: last }, 'page_token'],
      ] as const) {
        const result = await admin.call(method, request as never);
        expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
        expect(result.error!.details).toContain(field);
      }
    }
    // Redis was never blamed: the breaker is closed, and a valid id is an ordinary NOT_FOUND.
    expect(svc.logs.records().filter((r) => r.msg === 'redis circuit breaker changed state')).toEqual([]);
    expectError(await admin.call('replayDeadLetter', { id: last, reason: '' }), status.NOT_FOUND, 'NOT_FOUND');
    expect((await admin.ok('listDeadLetters', { pageSize: 1, pageToken: '0-0' })).deadLetters).toEqual([]);
  });
});
