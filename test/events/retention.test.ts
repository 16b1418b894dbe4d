import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Profile, Role } from '../../src/generated/coaching/v1/profile';
import { expectError } from '../support/errorDetails';
import { eventsAfter } from '../support/events';
import { coachingApi } from '../support/grpcClient';
import { useHarness } from '../support/harness';
import type { TestDatabase } from '../support/testDatabase';
import { startTestService, type TestService } from '../support/testService';
import { world } from '../support/world';

let db: TestDatabase;
const h = useHarness({ service: false });
beforeAll(() => ({ db } = h));

/** Runs `body` against a service on the file's database with the given settings (a long RETENTION_INTERVAL: the test runs the job). */
async function withService(env: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await startTestService(
    db.config({ RETENTION_INTERVAL: '1d', EVENTS_RETENTION: '7d', IDEMPOTENCY_RETENTION: '2d', RETENTION_BATCH_SIZE: '3', ...env }),
  );
  try {
    await body(svc);
  } finally {
    await svc.stop();
  }
}

const sequences = async () => (await db.query<{ s: string }>('select sequence::text as s from outbox order by sequence')).map((r) => r.s);

describe('retention', () => {
  it('without Redis deletes events older than EVENTS_RETENTION, in batches, and nothing else; ListEvents refuses the lost positions', async () => {
    await withService({}, async (svc) => {
      const api = coachingApi(svc.client);
      for (let i = 0; i < 8; i++) await world(api).coach(`Old${i}`);
      const all = await sequences();
      // The first 7 are 8 days old; the 8th is 6 days old: kept.
      await db.query(`update outbox set time = now() - interval '8 days' where sequence <= $1`, [all[6]]);
      await db.query(`update outbox set time = now() - interval '6 days' where sequence = $1`, [all[7]]);
      await world(api).coach('New');
      const result = await svc.service.events.runRetention();
      expect(result.outbox).toBe(7);
      expect(await sequences()).toEqual([...all.slice(7), String(BigInt(all[7]!) + 1n)]);
      // A reader still at a deleted position learns that it missed events; 0 starts at the oldest kept one.
      const expired = await api.call('listEvents', { afterSequence: all[2]!, pageSize: 10 });
      expectError(expired, status.FAILED_PRECONDITION, 'EVENTS_EXPIRED');
      expect((await eventsAfter(api, 0n)).map((e) => String(e.sequence))).toEqual(await sequences());
      expect((await api.ok('listEvents', { afterSequence: all[6]!, pageSize: 10 })).events).toHaveLength(2);
      // A second run finds nothing.
      expect((await svc.service.events.runRetention()).outbox).toBe(0);
    });
  });

  it('with a relay configured deletes only published events older than EVENTS_RETENTION: an unpublished one is kept however old', async () => {
    // A Redis that is not there: nothing gets published by the relay; the test marks what is "published".
    await withService({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT: '100ms' }, async (svc) => {
      const api = coachingApi(svc.client);
      const before = await sequences();
      for (let i = 0; i < 3; i++) await world(api).coach(`Relay${i}`);
      const fresh = (await sequences()).slice(before.length);
      await db.query(`update outbox set time = now() - interval '30 days', published_time = now() - interval '8 days' where sequence = $1`, [fresh[0]]);
      await db.query(`update outbox set time = now() - interval '30 days', published_time = now() - interval '1 day' where sequence = $1`, [fresh[1]]);
      await db.query(`update outbox set time = now() - interval '30 days', published_time = null where sequence = $1`, [fresh[2]]);
      expect((await svc.service.events.runRetention()).outbox).toBe(1);
      expect(await sequences()).toEqual([...before, fresh[1], fresh[2]]);
    });
  });

  it('deletes idempotency keys older than IDEMPOTENCY_RETENTION; a retry after that is a new request', async () => {
    await withService({}, async (svc) => {
      const api = coachingApi(svc.client);
      const oldKey = randomUUID();
      const newKey = randomUUID();
      const profile = (email: string) => Profile.fromPartial({ role: Role.ROLE_COACH, email, displayName: 'Keyed', timezone: 'UTC' });
      await api.ok('createProfile', { requestId: oldKey, profile: profile(`k1-${oldKey}@example.com`) });
      const second = await api.ok('createProfile', { requestId: newKey, profile: profile(`k2-${newKey}@example.com`) });
      await db.query(`update idempotency_keys set create_time = now() - interval '3 days' where request_id = $1`, [oldKey]);
      expect((await svc.service.events.runRetention()).idempotency_keys).toBe(1);
      const keys = (
        await db.query<{ id: string }>('select request_id::text as id from idempotency_keys where request_id = any($1::uuid[])', [[oldKey, newKey]])
      ).map((r) => r.id);
      expect(keys).toEqual([newKey]);
      // The trade-off: the retried create is new now; the email is taken by the first one.
      expectError(await api.call('createProfile', { requestId: oldKey, profile: profile(`k1-${oldKey}@example.com`) }), status.ALREADY_EXISTS, 'EMAIL_TAKEN');
      // Within the window a retry still gets the stored answer.
      expect((await api.ok('createProfile', { requestId: newKey, profile: profile(`k2-${newKey}@example.com`) })).profile!.id).toBe(second.profile!.id);
    });
  });
});
