/**
 * grpcurl (Go, static build; shares no code with the service) against a live
 * service through reflection alone: it must resolve every type, including the
 * google.rpc error details packed in Any, and print them decoded.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/config';
import { createEmptyDatabase } from '../resilience/support/fixtures';
import { grpcurl, grpcurlError, runTool } from '../support/cliTools';
import { coachingApi } from '../support/grpcClient';
import { startEmbeddedTestPostgres } from '../support/postgresServer';
import { describeWithTools } from '../support/systemTools';
import { serviceEnv } from '../support/testDatabase';
import { startTestService, type TestService } from '../support/testService';
import { waitFor } from '../support/waitFor';

const API = 'coaching.v1.CoachingService';

describeWithTools(['grpcurl'], 'grpcurl through reflection only', () => {
  let pg: Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
  let svc: TestService;

  beforeAll(async () => {
    // A server of its own: the last test stops it to open the circuit breaker.
    pg = await startEmbeddedTestPostgres();
    const db = await createEmptyDatabase(pg.adminUrl);
    const env = serviceEnv(db.url, {
      DB_MIGRATE_ON_START: 'true',
      DB_RETRY_MAX_ATTEMPTS: '0',
      DB_BREAKER_CONSECUTIVE_FAILURES: '2',
      DB_BREAKER_HALF_OPEN_AFTER_MS: '60000',
      DB_CONNECT_TIMEOUT: '2',
    });
    svc = await startTestService(loadConfig({ env }));
  });
  afterAll(async () => {
    await svc?.stop();
    await pg?.stop();
  });

  it('lists the services and describes the google.rpc detail types', async () => {
    const list = await runTool('grpcurl', ['-plaintext', `127.0.0.1:${svc.service.port}`, 'list']);
    expect({ code: list.code, stderr: list.stderr }).toEqual({ code: 0, stderr: '' });
    expect(list.stdout.trim().split('\n')).toEqual(['coaching.health.v1.HealthService', API, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']);
    const describe = await runTool('grpcurl', ['-plaintext', `127.0.0.1:${svc.service.port}`, 'describe', 'google.rpc.BadRequest.FieldViolation']);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toContain('google.rpc.BadRequest.FieldViolation is a message');
    expect(describe.stdout).toMatch(/string field = 1;/);
  });

  it('prints ErrorInfo and BadRequest decoded, and exits with 64 + INVALID_ARGUMENT', async () => {
    const run = await grpcurl(svc.service.port, `${API}/GetProgram`, { id: 'nope' });
    expect(run.code).toBe(64 + status.INVALID_ARGUMENT);
    expect(run.stderr).not.toContain('is not recognized');
    expect(grpcurlError(run)).toEqual({
      code: 'InvalidArgument',
      message: 'id: must be a UUID (e.g. 3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f)',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INVALID_ARGUMENT', domain: 'coaching.v1' },
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'id', description: 'must be a UUID (e.g. 3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f)' }],
        },
      ],
    });
  });

  it('prints ErrorInfo metadata for NOT_FOUND; -v shows the echoed x-request-id and the x-error-reason trailer', async () => {
    const id = randomUUID();
    const run = await grpcurl(svc.service.port, `${API}/GetProfile`, { id }, ['-v', '-H', 'x-request-id: grpcurl-check-1']);
    expect(run.code).toBe(64 + status.NOT_FOUND);
    expect(grpcurlError(run).details).toEqual([
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'NOT_FOUND', domain: 'coaching.v1', metadata: { resource: 'profile', id } },
    ]);
    expect(run.stdout).toMatch(/Response headers received:[\s\S]*\nx-request-id: grpcurl-check-1\n/);
    expect(run.stdout).toMatch(/Response trailers received:[\s\S]*\nx-error-reason: NOT_FOUND\n/);
  });

  it('prints RetryInfo decoded when the database circuit breaker is open', async () => {
    await pg.stopServer('fast');
    const api = coachingApi(svc.client);
    // Connection failures open the breaker (2 in a row); then calls fail fast with CIRCUIT_OPEN.
    await waitFor(
      'CIRCUIT_OPEN',
      async () => (await api.call('getProfile', { id: randomUUID() })).error?.metadata.get('x-error-reason')[0] === 'CIRCUIT_OPEN',
      20_000,
    );
    const run = await grpcurl(svc.service.port, `${API}/GetProfile`, { id: randomUUID() });
    expect(run.code).toBe(64 + status.UNAVAILABLE);
    const { code, details } = grpcurlError(run);
    expect(code).toBe('Unavailable');
    expect(details).toEqual([
      expect.objectContaining({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'CIRCUIT_OPEN', domain: 'coaching.v1' }),
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: expect.stringMatching(/^\d+(\.\d+)?s$/) },
    ]);
    const seconds = Number((details[1] as { retryDelay: string }).retryDelay.slice(0, -1));
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
  });
});
