import { FRAME, RawFrameClient, type Frame } from './support/h2Frames';
import { useHarness } from './support/harness';
import { waitFor } from './support/waitFor';

/**
 * A drain tells each connection once that it is going away: one GOAWAY
 * sequence per connection, never a GOAWAY per timer or per event, also for
 * connections that connection age management already told to go away.
 * Node's HTTP/2 sends the drain's GOAWAY when the session starts closing and
 * the same frame again when it is torn down: at most two identical frames.
 */
const h = useHarness({ service: false });

const goaways = (client: RawFrameClient): Frame[] => client.frames.filter((f) => f.type === FRAME.GOAWAY);
const describeGoaways = (client: RawFrameClient) =>
  goaways(client).map((g) => ({ lastStream: g.payload.readUInt32BE(0) & 0x7fffffff, code: g.payload.readUInt32BE(4), data: g.payload.subarray(8).toString() }));

/** A health Watch whose request is complete (an empty HealthCheckRequest, END_STREAM): it stays open until the server ends it. */
function watch(client: RawFrameClient): number {
  const id = client.openGrpcStream('/grpc.health.v1.Health/Watch');
  client.sendData(id, Buffer.alloc(5), true);
  return id;
}

it.each([
  ['idle and busy connections', {}],
  ['connections that max connection age already asked to go away', { GRPC_MAX_CONNECTION_AGE_MS: '400', GRPC_MAX_CONNECTION_AGE_GRACE_MS: '60000' }],
])('a drain sends %s one GOAWAY sequence each, and stays graceful', async (_name, overrides: Record<string, string>) => {
  const svc = await h.start({ SHUTDOWN_DRAIN_DELAY_MS: '300', SHUTDOWN_TIMEOUT: '20', ...overrides });
  await waitFor('readiness SERVING', () => svc.service.readiness.ready);
  const idle = await RawFrameClient.open(svc.service.port);
  const busy = await RawFrameClient.open(svc.service.port);
  const stream = watch(busy);
  try {
    await busy.until((f) => f.type === FRAME.DATA && f.streamId === stream);
    if (overrides.GRPC_MAX_CONNECTION_AGE_MS !== undefined) await busy.until((f) => f.type === FRAME.GOAWAY, 5_000);
    await svc.stop();
    await waitFor('both connections closed', () => idle.closed && busy.closed, { timeoutMs: 20_000 });
    for (const client of [idle, busy]) {
      // The drain's own: Node's session.close() sends one, its teardown repeats it; a connection that
      // max age already asked to go away has that one (last stream 2^31-1, "max_age") before them.
      const drained = describeGoaways(client).filter((g) => g.data !== 'max_age');
      expect(drained.length).toBeGreaterThanOrEqual(1);
      expect(drained.length).toBeLessThanOrEqual(2);
      expect(new Set(drained.map((g) => JSON.stringify(g))).size).toBe(1);
      expect(describeGoaways(client).filter((g) => g.data === 'max_age').length).toBeLessThanOrEqual(1);
    }
    expect(svc.logs.records().find((r) => r.msg === 'coaching-service stopped')?.shutdown).toBe('graceful');
  } finally {
    idle.close();
    busy.close();
  }
});
