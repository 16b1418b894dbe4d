import { status } from '@grpc/grpc-js';
import { constants } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { ListProfilesRequest, UpdateProgramRequest } from '../src/generated/coaching/v1/coaching_service';
import { Role } from '../src/generated/coaching/v1/profile';
import { PROGRAM_LIMITS } from '../src/domain/program';
import { coachingApi } from './support/grpcClient';
import { FRAME, RawFrameClient } from './support/h2Frames';
import { check, probeClient } from './support/healthClient';
import { newProfile } from './support/profiles';
import { sample, scrape } from './support/promtool';
import { rawCall, rawConnect, rawHealthWatch, watchStatuses, type RawConnection } from './support/rawHttp2';
import { useHarness } from './support/harness';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';

/**
 * What one client may hold on a listener: connections (idle, or that never
 * speak HTTP/2), Watch streams over many connections from one address,
 * response bytes it never reads, and request messages it never finishes.
 */
const h = useHarness({ service: false });

async function withService(overrides: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await h.start(overrides);
  try {
    await waitFor('readiness SERVING', () => svc.service.readiness.ready);
    await body(svc);
  } finally {
    await svc.stop();
  }
}

type TcpSocket = Socket & { closedAt?: number; received: Buffer[] };

async function tcp(port: number, localAddress?: string): Promise<TcpSocket> {
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress !== undefined && { localAddress }) }) as TcpSocket;
  socket.received = [];
  socket.on('error', () => undefined);
  // Read what the server sends (so its FIN is seen), and keep it.
  socket.on('data', (chunk: Buffer) => socket.received.push(chunk));
  socket.on('close', () => {
    socket.closedAt = Date.now();
  });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

async function liveness(port: number): Promise<string | undefined> {
  const client = probeClient(port);
  try {
    const result = await check(client, 'liveness', 5_000);
    return result.status ?? result.error?.message;
  } finally {
    client.close();
  }
}

/** The 5-byte gRPC message prefix (not compressed) announcing a message of `bytes`. */
function messagePrefix(bytes: number): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes, 1);
  return prefix;
}

const policyCount = async (svc: TestService, reason: string): Promise<number> =>
  sample((await scrape(svc.service.metricsPort!)).text, 'coaching_grpc_connection_policy_closes_total', { reason }) ?? 0;

describe('connections', () => {
  it('that never send the HTTP/2 preface (or only part of it) are closed after GRPC_HANDSHAKE_TIMEOUT_MS', async () => {
    await withService({ GRPC_HANDSHAKE_TIMEOUT_MS: '500' }, async (svc) => {
      const opened = Date.now();
      const silent = await tcp(svc.service.port);
      const partial = await tcp(svc.service.port);
      partial.write('PRI * HTTP/2.0\r\n');
      const speaking = await RawFrameClient.open(svc.service.port);
      try {
        await waitFor('the silent sockets to be closed', () => silent.closedAt !== undefined && partial.closedAt !== undefined, { timeoutMs: 10_000 });
        expect(silent.closedAt! - opened).toBeGreaterThanOrEqual(400);
        // A client that sent its preface and SETTINGS keeps its connection.
        expect(speaking.closed).toBe(false);
        expect(await policyCount(svc, 'handshake_timeout')).toBe(2);
        expect(await liveness(svc.service.port)).toBe('SERVING');
      } finally {
        speaking.close();
        silent.destroy();
        partial.destroy();
      }
    });
  });

  it('are capped at GRPC_MAX_CONNECTIONS: one more is closed at once, and served again when one goes', async () => {
    await withService({ GRPC_MAX_CONNECTIONS: '3', GRPC_HANDSHAKE_TIMEOUT_MS: '60000' }, async (svc) => {
      const held = [await tcp(svc.service.port), await tcp(svc.service.port), await tcp(svc.service.port)];
      try {
        const extra = await tcp(svc.service.port);
        await waitFor('the connection over the cap to be closed', () => extra.closedAt !== undefined, { timeoutMs: 10_000 });
        expect(held.every((s) => s.closedAt === undefined)).toBe(true);
        expect(await policyCount(svc, 'connection_refused')).toBeGreaterThanOrEqual(1);
        held.pop()!.destroy();
        await waitFor('a new connection to be served', async () => (await liveness(svc.service.port)) === 'SERVING', { timeoutMs: 10_000 });
      } finally {
        for (const s of held) s.destroy();
      }
    });
  });
});

describe('connections from one client address', () => {
  it('are capped at GRPC_MAX_CONNECTIONS_PER_PEER, so one client cannot take the whole listener', async () => {
    await withService({ GRPC_MAX_CONNECTIONS_PER_PEER: '3', GRPC_HANDSHAKE_TIMEOUT_MS: '60000' }, async (svc) => {
      const held = [await tcp(svc.service.port), await tcp(svc.service.port), await tcp(svc.service.port)];
      const other = await tcp(svc.service.port, '127.0.0.2');
      try {
        const extra = await tcp(svc.service.port);
        await waitFor('the fourth connection from 127.0.0.1 to be closed', () => extra.closedAt !== undefined, { timeoutMs: 10_000 });
        expect(await policyCount(svc, 'peer_connections')).toBe(1);
        // Another address is served: it gets the server's HTTP/2 SETTINGS after its preface.
        other.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
        const settings = await waitFor('the server SETTINGS on the other address', () => other.received[0]);
        expect(settings.readUInt8(3)).toBe(FRAME.SETTINGS);
        expect(held.every((s) => s.closedAt === undefined) && other.closedAt === undefined).toBe(true);
      } finally {
        for (const s of [...held, other]) s.destroy();
      }
    });
  });
});

describe('health Watch streams', () => {
  it('are bounded per client address over all its connections, not only per connection', async () => {
    await withService({ GRPC_HEALTH_WATCH_MAX_STREAMS_PER_CONNECTION: '2', GRPC_HEALTH_WATCH_MAX_STREAMS_PER_PEER: '4' }, async (svc) => {
      const connections: RawConnection[] = [];
      try {
        for (let n = 0; n < 3; n++) connections.push(await rawConnect(svc.service.port));
        const [a, b, c] = connections as [RawConnection, RawConnection, RawConnection];
        const admitted = [rawHealthWatch(a.session, ''), rawHealthWatch(a.session, ''), rawHealthWatch(b.session, ''), rawHealthWatch(b.session, '')];
        await waitFor('four Watch streams to answer', () => admitted.every((w) => watchStatuses(w).length > 0));
        const refused = rawHealthWatch(c.session, '');
        const { grpcStatus } = await refused.ended;
        expect(grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
        expect(admitted.every((w) => w.status() === undefined)).toBe(true);
        // One ends: its place is free again, for any connection of that address.
        admitted[0]!.cancel();
        await admitted[0]!.ended;
        await waitFor('a Watch to be admitted again', async () => {
          const next = rawHealthWatch(c.session, '');
          await Promise.race([next.firstMessage.catch(() => undefined), next.ended]);
          return watchStatuses(next).length > 0;
        });
      } finally {
        for (const c of connections) c.close();
      }
    });
  });
});

describe('a client that reads no responses', () => {
  it('loses its connection once GRPC_MAX_CONNECTION_BUFFERED_BYTES of responses are queued for it; others are served', async () => {
    await withService({ GRPC_MAX_CONNECTION_BUFFERED_BYTES: String(256 * 1024) }, async (svc) => {
      const api = coachingApi(svc.client);
      for (let n = 0; n < 60; n++) await api.ok('createProfile', { requestId: '', profile: newProfile({ role: Role.ROLE_COACH, bio: 'b'.repeat(2000) }) });
      const slow = await rawConnect(svc.service.port);
      try {
        // ~120 KiB per page; HTTP/2 lets the server send one 64 KiB window in all, the rest is queued.
        const calls = Array.from({ length: 20 }, () =>
          rawCall(
            slow.session,
            '/coaching.v1.CoachingService/ListProfiles',
            ListProfilesRequest.encode({ pageSize: 100, pageToken: '', role: Role.ROLE_COACH }).finish(),
          ),
        );
        for (const call of calls) call.pause();
        await waitFor('the slow connection to be closed', () => slow.closed(), { timeoutMs: 20_000 });
        expect(slow.goaways.map((g) => [g.code, g.data])).toContainEqual([constants.NGHTTP2_ENHANCE_YOUR_CALM, 'too_much_buffered_response_data']);
        expect(await policyCount(svc, 'buffered_bytes')).toBe(1);
        expect((await api.call('listProfiles', { pageSize: 100, pageToken: '', role: Role.ROLE_COACH })).error).toBeUndefined();
      } finally {
        slow.close();
      }
    });
  });
});

describe('request messages', () => {
  it('that are never completed are cut off after GRPC_REQUEST_MESSAGE_TIMEOUT_MS', async () => {
    await withService({ GRPC_REQUEST_MESSAGE_TIMEOUT_MS: '500' }, async (svc) => {
      const client = await RawFrameClient.open(svc.service.port);
      try {
        const id = client.openGrpcStream('/coaching.v1.CoachingService/CreateProfile');
        // A gRPC message prefix announcing 1000 bytes, then 10 of them, and nothing more.
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(1000, 1);
        client.sendData(id, Buffer.concat([prefix, Buffer.alloc(10, 0x41)]));
        const reset = await client.until((f) => f.type === FRAME.RST_STREAM && f.streamId === id, 10_000);
        expect(reset.payload.readUInt32BE(0)).toBe(constants.NGHTTP2_CANCEL);
        expect(await policyCount(svc, 'request_message_timeout')).toBe(1);
        expect(client.closed).toBe(false);
      } finally {
        client.close();
      }
    });
  });

  it('a stream answered while its client is still sending gets RST_STREAM NO_ERROR after the whole response', async () => {
    await withService({ GRPC_MAX_RECEIVE_MESSAGE_BYTES: '1024' }, async (svc) => {
      const client = await RawFrameClient.open(svc.service.port);
      try {
        const id = client.openGrpcStream('/coaching.v1.CoachingService/GetProfile');
        // A message prefix announcing more than the receive limit: refused with a status before the client half-closes.
        client.sendData(id, messagePrefix(4096));
        const reset = await client.until((f) => f.type === FRAME.RST_STREAM && f.streamId === id, 10_000);
        expect(reset.payload.readUInt32BE(0)).toBe(constants.NGHTTP2_NO_ERROR);
        // The status went out first, in headers that end the stream.
        const answered = client.frames.findIndex((f) => f.type === FRAME.HEADERS && f.streamId === id && (f.flags & 0x1) !== 0);
        expect(answered).toBeGreaterThanOrEqual(0);
        expect(answered).toBeLessThan(client.frames.indexOf(reset));
        expect(client.closed).toBe(false);
      } finally {
        client.close();
      }
    });
  });

  it('the default receive limit is deliberate: about ten times the largest valid request, which is served', async () => {
    await withService({}, async (svc) => {
      const limit = svc.service.configInForce().grpc.limits.maxReceiveMessageBytes;
      // The largest request the rules allow: UpdateProgram with every text field at its limit in 4-byte characters.
      const largest = UpdateProgramRequest.fromPartial({
        program: {
          id: '3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f',
          etag: '"v1"',
          coachId: '3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f',
          title: '😀'.repeat(PROGRAM_LIMITS.title),
          description: '😀'.repeat(PROGRAM_LIMITS.description),
        },
        updateMask: ['title', 'description'],
      });
      const bytes = UpdateProgramRequest.encode(largest).finish().length;
      expect(bytes * 8).toBeLessThan(limit);
      expect(bytes * 16).toBeGreaterThan(limit);
      const api = coachingApi(svc.client);
      // Served (NOT_FOUND: no such program), not refused for its size.
      expect((await api.call('updateProgram', largest)).error?.code).toBe(status.NOT_FOUND);
      const tooBig = await api.call('createProfile', { requestId: '', profile: newProfile({ bio: 'b'.repeat(limit) }) });
      expect(tooBig.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    });
  });
});
