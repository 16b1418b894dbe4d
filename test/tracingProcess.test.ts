import { randomBytes } from 'node:crypto';
import { Role } from '../src/generated/coaching/v1/profile';
import { coachingApi, coachingClient } from './support/grpcClient';
import { OtlpReceiver } from './support/otlpReceiver';
import { jsonLines, type NodeProcess } from './support/processes';
import { useServiceProcess } from './support/harness';
import { waitFor } from './support/waitFor';

let receiver: OtlpReceiver;
let service: NodeProcess;
let port: number;

const p = useServiceProcess({
  beforeStart: async () => {
    receiver = await OtlpReceiver.start();
  },
  env: () => ({ ...receiver.env('http/protobuf'), OTEL_SERVICE_NAME: 'coaching-process' }),
});
beforeAll(() => ({ service, port } = p));
afterAll(() => receiver?.stop());

describe('the service process (npm start) exports to an OTLP receiver', () => {
  it('continues the caller trace, exports the call with its statements, and logs the trace id on the call lines', async () => {
    const traceId = randomBytes(16).toString('hex');
    const client = coachingClient(port);
    try {
      const result = await coachingApi(client).call(
        'listProfiles',
        { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED },
        {
          metadata: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        },
      );
      expect(result.error).toBeUndefined();
      expect(result.headers?.get('x-trace-id')).toEqual([traceId]);
    } finally {
      client.close();
    }
    const spans = await waitFor('the ListProfiles trace', () => receiver.trace(traceId).some((s) => s.kind === 2) && receiver.trace(traceId));
    expect(spans.find((s) => s.kind === 2)?.resource['service.name']).toBe('coaching-process');
    expect(spans.some((s) => s.attributes['db.system'] === 'postgresql' && typeof s.attributes['db.query.text'] === 'string')).toBe(true);

    // SIGTERM flushes the logs; the call's line carries its trace id.
    service.child.kill('SIGTERM');
    const finished = await service.exited(20_000);
    expect(finished.code).toBe(0);
    const serving = jsonLines(finished.stdout).find((l) => l.msg === 'coaching-service serving');
    expect(serving?.tracing).toEqual({
      protocol: 'http/protobuf',
      collector: `http://127.0.0.1:${receiver.httpPort}`,
      sampler: 'parentbased_always_on',
      ratio: 1,
    });
    const line = jsonLines(finished.stdout).find((l) => l.msg === 'rpc finished' && l.method === 'ListProfiles');
    expect(line).toMatchObject({ trace_id: traceId, correlationId: traceId });
  });
});
