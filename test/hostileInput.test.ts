import { status } from '@grpc/grpc-js';
import { Enrollment } from '../src/generated/coaching/v1/enrollment';
import { Role } from '../src/generated/coaching/v1/profile';
import { Program } from '../src/generated/coaching/v1/program';
import { Session } from '../src/generated/coaching/v1/session';
import { coachingApi, coachingClient } from './support/grpcClient';
import { check, healthApi, probeClient } from './support/healthClient';
import { jsonLines, type NodeProcess } from './support/processes';
import { newProfile } from './support/profiles';
import { useServiceProcess } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import { waitFor } from './support/waitFor';
import { statusDetails } from './support/errorDetails';

/**
 * Regression tests for the two reported failures, against the real compiled
 * service in a child process (so a crash or a frozen event loop shows as
 * what it is, and the probing client runs on another loop):
 * - one CreateProfile whose time zone is 63 letters and an emoji ended the
 *   process (the echoed value was cut inside the emoji; grpc-js encodeURI threw);
 * - a few hundred KB echoed into an error froze the loop (super-linear
 *   scrubber) and the reply never reached the client.
 */
let db: TestDatabase;
let service: NodeProcess;
let port: number;

const EMOJI_ZONE = `${'A'.repeat(63)}😀`;

async function alive(): Promise<void> {
  if (service.child.exitCode !== null) throw new Error(`service exited with ${service.child.exitCode}:\n${service.stdout()}\n${service.stderr()}`);
  const client = probeClient(port);
  try {
    const result = await check(client, 'liveness', 5_000);
    expect({ status: result.status, error: result.error?.message }).toEqual({ status: 'SERVING', error: undefined });
  } finally {
    client.close();
  }
}

// Above the 256 KiB default receive limit, so the few hundred KB below reach the rules (as when an operator raises it).
const p = useServiceProcess({ env: () => ({ GRPC_MAX_RECEIVE_MESSAGE_BYTES: String(8 * 1024 * 1024) }) });
beforeAll(() => ({ db, service, port } = p));

describe('a request that used to end the process', () => {
  it('CreateProfile with a time zone of 63 letters and an emoji is INVALID_ARGUMENT and the process lives on', async () => {
    const client = coachingClient(port);
    try {
      const result = await coachingApi(client).call('createProfile', { profile: newProfile({ timezone: EMOJI_ZONE }), requestId: '' }, { deadlineMs: 10_000 });
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error!.details.isWellFormed()).toBe(true);
      expect(statusDetails(result.error!).badRequest?.fieldViolations.map((v) => v.field)).toEqual(['profile.timezone']);
    } finally {
      client.close();
    }
    await alive();
    expect(await db.query('select count(*)::int as n from profiles')).toEqual([{ n: 0 }]);
  });

  it('an update_mask path of 63 letters and an emoji is INVALID_ARGUMENT on all four Update RPCs', async () => {
    const client = coachingClient(port);
    const api = coachingApi(client);
    const id = '3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f';
    const mask = [EMOJI_ZONE];
    try {
      const results = [
        await api.call('updateProfile', { profile: newProfile({ id, etag: '"v1"', role: Role.ROLE_COACH }), updateMask: mask }, { deadlineMs: 10_000 }),
        await api.call('updateProgram', { program: Program.fromPartial({ id, etag: '"v1"' }), updateMask: mask }, { deadlineMs: 10_000 }),
        await api.call('updateEnrollment', { enrollment: Enrollment.fromPartial({ id, etag: '"v1"' }), updateMask: mask }, { deadlineMs: 10_000 }),
        await api.call('updateSession', { session: Session.fromPartial({ id, etag: '"v1"' }), updateMask: mask }, { deadlineMs: 10_000 }),
      ];
      for (const result of results) {
        expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
        expect(result.error!.details.isWellFormed()).toBe(true);
        expect(statusDetails(result.error!).badRequest?.fieldViolations.map((v) => v.field)).toContain('update_mask');
      }
    } finally {
      client.close();
    }
    await alive();
  });
});

describe('a request that used to freeze the event loop', () => {
  it('ResetCircuitBreaker with a few hundred KB of text is answered in time, and liveness answers meanwhile', async () => {
    // Dots between letters: every letter starts a word, the shape the old scrubber's regular expression was quadratic on.
    const dependency = 'a.'.repeat(150_000);
    const health = healthApi(port);
    const probe = probeClient(port);
    try {
      const reply = health.call('resetCircuitBreaker', { dependency }, { deadlineMs: 10_000 });
      const liveness = await check(probe, 'liveness', 5_000);
      const result = await reply;
      expect(liveness.status).toBe('SERVING');
      expect(result.error).toBeDefined();
      // Refused (or, on a port without admin RPCs, unimplemented); never INTERNAL, UNKNOWN or a missed deadline.
      expect([status.INVALID_ARGUMENT, status.NOT_FOUND, status.UNIMPLEMENTED]).toContain(result.error!.code);
      expect(Buffer.byteLength(result.error!.details)).toBeLessThanOrEqual(1024);
    } finally {
      health.client.close();
      probe.close();
    }
    await alive();
    // The log line that records the refusal is bounded too.
    await waitFor('the refusal to be logged', () => jsonLines(service.stdout()).some((l) => l.method === 'ResetCircuitBreaker'), { timeoutMs: 10_000 });
    for (const line of service.stdout().split('\n')) expect(line.length).toBeLessThan(64 * 1024);
  });
});
