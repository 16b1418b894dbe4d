import { constants } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { Role } from '../src/generated/coaching/v1/profile';
import { coachingApi } from './support/grpcClient';
import { grpcHealthApi } from './support/healthClient';
import { newProfile } from './support/profiles';
import { sample, scrape } from './support/promtool';
import { FRAME, RawFrameClient } from './support/h2Frames';
import { rawConnect, rawHealthCheck, rawHealthWatch, watchStatuses, type RawConnection } from './support/rawHttp2';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';
import { tableCounts } from './support/world';

let db: TestDatabase;
const h = useHarness({ service: false });
beforeAll(() => ({ db } = h));

/** Runs `body` against a service started with `overrides`, closing every raw connection it opened. */
async function withService(overrides: Record<string, string>, body: (svc: TestService, open: () => Promise<RawConnection>) => Promise<void>): Promise<void> {
  const svc = await h.start(overrides);
  const connections: RawConnection[] = [];
  const open = async (): Promise<RawConnection> => {
    const connection = await rawConnect(svc.service.port);
    connections.push(connection);
    return connection;
  };
  try {
    await waitFor('readiness SERVING', () => svc.service.readiness.ready);
    await body(svc, open);
  } finally {
    for (const c of connections) c.close();
    await svc.stop();
  }
}

const metric = async (svc: TestService, name: string, labels: Record<string, string> = {}): Promise<number | undefined> =>
  sample((await scrape(svc.service.metricsPort!)).text, name, labels);

describe('concurrent streams per connection', () => {
  it('are capped by SETTINGS_MAX_CONCURRENT_STREAMS: clients are told the limit, a client that exceeds it is cut off, other connections are served', async () => {
    await withService({ GRPC_MAX_CONCURRENT_STREAMS: '4', GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION: '4' }, async (_svc, open) => {
      // A well-behaved client learns the limit from the server's SETTINGS.
      const polite = await open();
      await waitFor('the server SETTINGS', () => polite.session.remoteSettings.maxConcurrentStreams === 4);

      // A client that ignores it breaks the protocol: nghttp2 ends that connection with GOAWAY PROTOCOL_ERROR,
      // naming the last stream it accepted (the fourth), so the four admitted streams may still finish.
      const rude = await RawFrameClient.open(_svc.service.port);
      try {
        const streams = [0, 1, 2, 3, 4].map(() => rude.openGrpcStream('/grpc.health.v1.Health/Watch'));
        const goaway = await rude.until((f) => f.type === FRAME.GOAWAY);
        expect(goaway.payload.readUInt32BE(0) & 0x7fffffff).toBe(streams[3]);
        expect(goaway.payload.readUInt32BE(4)).toBe(constants.NGHTTP2_PROTOCOL_ERROR);
        expect(goaway.payload.subarray(8).toString('utf8')).toMatch(/max concurrent streams exceeded/);
        // Other connections are served meanwhile.
        expect(await rawHealthCheck(polite.session, 'liveness')).toBe('SERVING');
      } finally {
        rude.close();
      }
    });
  });
});

describe('health Watch streams', () => {
  const LIMITS = { GRPC_HEALTH_WATCH_MAX_STREAMS: '3', GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION: '2' };

  it('are bounded per connection and per server; beyond a bound a Watch ends at once with RESOURCE_EXHAUSTED', async () => {
    await withService(LIMITS, async (svc, open) => {
      const a = await open();
      const b = await open();
      const a1 = rawHealthWatch(a.session, 'readiness');
      const a2 = rawHealthWatch(a.session, 'liveness');
      await waitFor('two Watch streams on connection A', () => a1.messages.length === 1 && a2.messages.length === 1);
      const a3 = rawHealthWatch(a.session, 'readiness');
      expect((await a3.ended).grpcStatus).toBe(status.RESOURCE_EXHAUSTED);

      const b1 = rawHealthWatch(b.session, 'readiness');
      await waitFor('a Watch stream on connection B', () => b1.messages.length === 1);
      const b2 = rawHealthWatch(b.session, 'readiness');
      // The server-wide bound (3) is reached although B has only one.
      expect((await b2.ended).grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
      expect(svc.service.grpc.health.openWatches()).toBe(3);
      expect(await metric(svc, 'coaching_grpc_health_watch_streams', { listener: 'public' })).toBe(3);

      a1.cancel();
      await waitFor('the cancelled stream released', () => svc.service.grpc.health.openWatches() === 2);
      const b3 = rawHealthWatch(b.session, 'liveness');
      await waitFor('a new Watch accepted after the release', () => b3.messages.length === 1);
      // Check is never limited.
      expect(await rawHealthCheck(a.session, 'readiness')).toBe('SERVING');
      // Open streams still get status changes.
      svc.service.grpc.status.set('liveness', 'NOT_SERVING');
      await waitFor('the change pushed to open streams', () => a2.messages.length === 2 && b3.messages.length === 2);
      expect(watchStatuses(b3)).toEqual(['SERVING', 'NOT_SERVING']);
    });
  });

  it('answer unknown service names as the protocol says (Check NOT_FOUND, Watch SERVICE_UNKNOWN and open) without storing them', async () => {
    await withService(LIMITS, async (svc, open) => {
      const names = svc.service.grpc.status.entries().map(([name]) => name);
      const connection = await open();
      const unknown = rawHealthWatch(connection.session, 'no.such.Service');
      await waitFor('the SERVICE_UNKNOWN answer', () => unknown.messages.length === 1);
      expect(watchStatuses(unknown)).toEqual(['SERVICE_UNKNOWN']);
      expect(unknown.status()).toBeUndefined();

      // Thousands of distinct names, each watched and cancelled, then checked: nothing is kept for any of them.
      for (let i = 0; i < 300; i += 1) {
        const watch = rawHealthWatch(connection.session, `probe-${i}-${'x'.repeat(1000)}`);
        await watch.firstMessage;
        watch.cancel();
        await watch.ended;
      }
      const longName = `no.such.${'y'.repeat(10_000)}`;
      const health = grpcHealthApi(svc.service.port);
      const checked = await health.call('check', { service: longName });
      health.client.close();
      expect(checked.error?.code).toBe(status.NOT_FOUND);
      expect(checked.error?.details).not.toContain('yyyy');
      expect(svc.service.grpc.status.entries().map(([name]) => name)).toEqual(names);
      await waitFor('only the first unknown Watch still open', () => svc.service.grpc.health.openWatches() === 1);
    });
  });
});

describe('keepalive ping enforcement', () => {
  const pingOnce = (connection: RawConnection): Promise<void> =>
    new Promise((resolve) => {
      // The callback also runs with an error when the connection closed: either way this ping is done.
      if (!connection.session.ping(() => resolve())) resolve();
    });

  it('closes a connection that pings more often than allowed with GOAWAY ENHANCE_YOUR_CALM "too_many_pings"', async () => {
    await withService({ GRPC_KEEPALIVE_MIN_PING_INTERVAL_MS: '60000', GRPC_KEEPALIVE_MAX_PING_STRIKES: '2' }, async (svc, open) => {
      const flooding = await open();
      const watch = rawHealthWatch(flooding.session, 'readiness');
      await waitFor('a call open on the connection', () => watch.messages.length === 1);
      // The first ping is fine, the next two are strikes, the fourth is one too many.
      for (let i = 0; i < 4 && !flooding.closed(); i += 1) await pingOnce(flooding);
      await waitFor('GOAWAY', () => flooding.goaways.length > 0);
      expect(flooding.goaways[0]).toMatchObject({ code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_pings' });
      await waitFor('the connection closed', () => flooding.closed());
      expect(await metric(svc, 'coaching_grpc_ping_violations_total', { listener: 'public' })).toBe(1);

      // A connection that pings within the policy (once) keeps working.
      const calm = await open();
      await pingOnce(calm);
      expect(await rawHealthCheck(calm.session, 'readiness')).toBe('SERVING');
      expect(calm.goaways).toEqual([]);
    });
  });

  it('without GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS, pings on a connection with no call open are strikes; with calls open any rate is allowed', async () => {
    await withService({ GRPC_KEEPALIVE_MIN_PING_INTERVAL_MS: '0', GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS: 'false' }, async (_svc, open) => {
      const idle = await open();
      for (let i = 0; i < 4 && !idle.closed(); i += 1) await pingOnce(idle);
      await waitFor('GOAWAY on the idle connection', () => idle.goaways.length > 0);
      expect(idle.goaways[0]?.data).toBe('too_many_pings');

      const busy = await open();
      const watch = rawHealthWatch(busy.session, 'readiness');
      await waitFor('a call open', () => watch.messages.length === 1);
      for (let i = 0; i < 10; i += 1) await pingOnce(busy);
      expect(await rawHealthCheck(busy.session, 'liveness')).toBe('SERVING');
      expect(busy.goaways).toEqual([]);
    });
  });

  it('the server pings every connection each GRPC_KEEPALIVE_TIME_MS', async () => {
    await withService({ GRPC_KEEPALIVE_TIME_MS: '200', GRPC_KEEPALIVE_TIMEOUT_MS: '5000' }, async (_svc, open) => {
      const connection = await open();
      await waitFor('two server pings', () => connection.serverPings.length >= 2);
      expect(connection.closed()).toBe(false);
    });
  });
});

describe('connection idle and age', () => {
  it('closes a connection with no call open after GRPC_MAX_CONNECTION_IDLE_MS, but not one with a call open', async () => {
    await withService({ GRPC_MAX_CONNECTION_IDLE_MS: '300', GRPC_MAX_CONNECTION_AGE_MS: '0' }, async (_svc, open) => {
      const busy = await open();
      const watch = rawHealthWatch(busy.session, 'readiness');
      await waitFor('a call open', () => watch.messages.length === 1);
      const idle = await open();
      await waitFor('the idle connection closed', () => idle.closed());
      expect(idle.goaways.length).toBeGreaterThan(0);
      expect(idle.goaways.every((g) => g.code === constants.NGHTTP2_NO_ERROR)).toBe(true);
      expect(busy.closed()).toBe(false);
      expect(watch.status()).toBeUndefined();
    });
  });

  it('asks a connection to go away after GRPC_MAX_CONNECTION_AGE_MS, lets its calls run for the grace period, then closes it; clients reconnect without errors', async () => {
    await withService({ GRPC_MAX_CONNECTION_AGE_MS: '500', GRPC_MAX_CONNECTION_AGE_GRACE_MS: '1500', GRPC_MAX_CONNECTION_IDLE_MS: '0' }, async (svc, open) => {
      // Taken before connecting: the server's age timer starts later, so the measured age can only be longer.
      const opened = Date.now();
      const connection = await open();
      const watch = rawHealthWatch(connection.session, 'readiness');
      await waitFor('a call open', () => watch.messages.length === 1);
      const goaway = await waitFor('GOAWAY at max age', () => connection.goaways[0]);
      // 500 ms, less at most 10% jitter.
      expect(goaway.at - opened).toBeGreaterThanOrEqual(450);
      expect(goaway.code).toBe(constants.NGHTTP2_NO_ERROR);
      // The open call survives the GOAWAY for the grace period...
      expect(watch.status()).toBeUndefined();
      const closedAt = await waitFor('the connection closed after the grace period', () => connection.closedAt(), { timeoutMs: 15_000 });
      // ...and the connection closes 1500 ms after the server sent GOAWAY (received a little later).
      expect(closedAt - goaway.at).toBeGreaterThanOrEqual(1400);

      // A real client keeps working across several connection ages: every call succeeds.
      const api = coachingApi(svc.client);
      const until = Date.now() + 2_000;
      const codes = new Set<number>();
      while (Date.now() < until) {
        const result = await api.call('listProfiles', { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED });
        codes.add(result.error?.code ?? status.OK);
      }
      expect([...codes]).toEqual([status.OK]);
    });
  });
});

describe('message sizes', () => {
  it('refuses a request above GRPC_MAX_RECEIVE_MESSAGE_BYTES before any work, and a response above GRPC_MAX_SEND_MESSAGE_BYTES', async () => {
    await withService({ GRPC_MAX_RECEIVE_MESSAGE_BYTES: '4096', GRPC_MAX_SEND_MESSAGE_BYTES: '2048' }, async (svc) => {
      const api = coachingApi(svc.client);
      const before = await tableCounts((text) => db.query(text));
      const big = await api.call('createProfile', { requestId: '', profile: newProfile({ bio: 'b'.repeat(5000) }) });
      expect(big.error?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(await tableCounts((text) => db.query(text))).toEqual(before);

      const role = Role.ROLE_PARTICIPANT;
      for (let i = 0; i < 15; i += 1) await api.ok('createProfile', { requestId: '', profile: newProfile({ bio: 'about me '.repeat(10) }) });
      expect((await api.call('listProfiles', { pageSize: 2, pageToken: '', role })).error).toBeUndefined();
      const tooBig = await api.call('listProfiles', { pageSize: 15, pageToken: '', role });
      expect(tooBig.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    });
  });
});
