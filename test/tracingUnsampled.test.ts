/**
 * A call the sampler drops (no caller trace, and a root sampler that keeps
 * nothing): the service makes no span for it (src/tracing/rpcTracing.ts), yet
 * the call keeps its trace id everywhere the id is observable: response
 * headers, every log line of the call, and the events it writes.
 */
import { randomBytes } from 'node:crypto';
import { Role } from '../src/generated/coaching/v1/profile';
import { coachingApi } from './support/grpcClient';
import { OtlpReceiver } from './support/otlpReceiver';
import { newProfile } from './support/profiles';
import { useHarness } from './support/harness';
import { startTestService } from './support/testService';
import { waitFor } from './support/waitFor';

const SERVER = 2;

const h = useHarness({ service: false });
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await OtlpReceiver.start();
});
afterAll(async () => {
  await receiver?.stop();
});

it('a dropped root call has a trace id in its headers, log lines and events, and exports nothing; a sampled caller is still traced', async () => {
  const svc = await startTestService(h.db.config({ ...receiver.env('grpc'), OTEL_TRACES_SAMPLER: 'parentbased_always_off' }));
  try {
    const api = coachingApi(svc.client);
    const created = await api.call(
      'createProfile',
      { requestId: '', profile: newProfile({ role: Role.ROLE_COACH }) },
      { metadata: { 'x-request-id': 'unsampled-call-1' } },
    );
    expect(created.error).toBeUndefined();
    const traceId = String(created.headers?.get('x-trace-id')[0]);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(created.headers?.get('x-request-id')).toEqual(['unsampled-call-1']);

    const lines = svc.logs.records().filter((r) => r.correlationId === 'unsampled-call-1');
    expect(lines.find((l) => l.msg === 'rpc finished')).toBeDefined();
    for (const line of lines) {
      expect(line.trace_id).toBe(traceId);
      expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    }
    // The event carries the trace id (the active trace), not the caller's correlation id.
    const events = await h.db.query<{ trace_id: string }>('select trace_id from outbox where subject = $1', [created.response!.profile!.id]);
    expect(events.map((e) => e.trace_id)).toEqual([traceId]);

    // A caller's sampled trace is honoured by the parent-based sampler, and exported after the dropped call's
    // spans would have been: once it is there, nothing of the dropped trace came (nor will).
    const sampled = randomBytes(16).toString('hex');
    const listed = await api.call(
      'listProfiles',
      { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
      { metadata: { traceparent: `00-${sampled}-${randomBytes(8).toString('hex')}-01` } },
    );
    expect(listed.headers?.get('x-trace-id')).toEqual([sampled]);
    await waitFor('the sampled ListProfiles span', () => receiver.trace(sampled).find((s) => s.kind === SERVER));
    expect(receiver.trace(traceId)).toEqual([]);
  } finally {
    await svc.stop();
  }
});
