/**
 * The typed internal client (src/client) against the real service: typed
 * errors with their google.rpc details, generated request_ids, the DNS
 * target, round_robin over two instances on one database, and channel
 * retries honouring the server's pushback during a real database outage.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  buildServiceConfig,
  CoachingServiceError,
  CoachingServiceService,
  createCoachingClient,
  describeMethods,
  InvalidArgumentError,
  NotFoundError,
  Profile,
  Role,
  UnavailableError,
  type CoachingClient,
} from '../src/client';
import { loadConfig } from '../src/config/config';
import { useHarness } from './support/harness';
import { startEmbeddedTestPostgres } from './support/postgresServer';
import { sample, scrape } from './support/promtool';
import { queryUrl, serviceEnv } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const h = useHarness();
const clients: CoachingClient[] = [];
afterAll(() => clients.forEach((c) => c.close()));

const client = (target: string, extra: Partial<Parameters<typeof createCoachingClient>[0]> = {}): CoachingClient => {
  const c = createCoachingClient({ target, tls: false, ...extra });
  clients.push(c);
  return c;
};
const newProfile = (name = 'Client') =>
  Profile.fromPartial({ role: Role.ROLE_COACH, email: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`, displayName: name, timezone: 'UTC' });

/** RPCs an instance finished, by code, read from its own /metrics. */
async function handled(svc: TestService, method: string, code: string): Promise<number> {
  const { text } = await scrape(svc.service.metricsPort!);
  return sample(text, 'grpc_server_handled_total', { grpc_method: method, grpc_code: code }) ?? 0;
}

describe('the service config', () => {
  it('retries reads and request_id writes only, round_robin, with a default deadline', () => {
    const kinds = Object.fromEntries(describeMethods(CoachingServiceService).map((m) => [m.name, m.kind]));
    expect(kinds).toMatchObject({
      GetProfile: 'read',
      ListSessions: 'read',
      CreateProfile: 'idempotent-write',
      CompleteSession: 'idempotent-write',
      UpdateProfile: 'write',
      DeleteSession: 'write',
    });
    const config = buildServiceConfig(CoachingServiceService, {
      defaultDeadlineMs: 2500,
      retry: { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 5000, backoffMultiplier: 2 },
    }) as { loadBalancingConfig: unknown; methodConfig: { name: { method: string }[]; timeout: string; retryPolicy?: { retryableStatusCodes: string[] } }[] };
    expect(config.loadBalancingConfig).toEqual([{ round_robin: {} }]);
    const [retried, plain] = config.methodConfig;
    expect(retried!.retryPolicy?.retryableStatusCodes).toEqual(['UNAVAILABLE', 'RESOURCE_EXHAUSTED']);
    expect(retried!.name.map((n) => n.method)).toEqual(expect.arrayContaining(['GetProfile', 'CreateProfile', 'CompleteSession']));
    expect(retried!.name.map((n) => n.method)).not.toContain('UpdateProfile');
    expect(plain!.retryPolicy).toBeUndefined();
    expect(plain!.name.map((n) => n.method)).toEqual(expect.arrayContaining(['UpdateProfile', 'DeleteProfile']));
    expect([retried!.timeout, plain!.timeout]).toEqual(['2.5s', '2.5s']);
  });
});

describe('calls against the real service', () => {
  it('decodes errors into typed exceptions carrying ErrorInfo and BadRequest', async () => {
    const c = client(`127.0.0.1:${h.svc.service.port}`);
    const invalid = await c.getProfile({ id: 'nope' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidArgumentError);
    expect(invalid).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT', domain: 'coaching.v1' });
    expect((invalid as InvalidArgumentError).fieldViolations.map((v) => v.field)).toEqual(['id']);
    expect((invalid as Error).name).toBe('InvalidArgumentError');

    const missing = await c.getProfile({ id: randomUUID() }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as CoachingServiceError).errorMetadata).toMatchObject({ resource: 'profile' });

    const profile = newProfile();
    await c.createProfile({ profile });
    const taken = await c.createProfile({ profile }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(AlreadyExistsError);
    expect((taken as CoachingServiceError).retryable).toBe(false);
  });

  it('gives every write with a request_id field a fresh UUID when the caller gives none, and keeps the caller’s', async () => {
    const c = client(`127.0.0.1:${h.svc.service.port}`);
    const keys = async () => (await h.db.query<{ request_id: string }>('select request_id from idempotency_keys')).map((r) => r.request_id);
    const before = await keys();
    const created = await c.createProfile({ profile: newProfile('Generated') });
    const added = (await keys()).filter((k) => !before.includes(k));
    expect(added).toEqual([expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)]);

    const mine = randomUUID();
    const profile = newProfile('Mine');
    const first = await c.createProfile({ profile, requestId: mine });
    expect(await c.createProfile({ profile, requestId: mine })).toEqual(first);
    expect(await keys()).toContain(mine);
    expect(created.profile?.id).not.toBe(first.profile?.id);
  });

  it('resolves a dns:/// target', async () => {
    const c = client(`dns:///localhost:${h.svc.service.port}`);
    const created = await c.createProfile({ profile: newProfile('Dns') });
    expect((await c.getProfile({ id: created.profile!.id })).profile).toEqual(created.profile);
  });
});

describe('round_robin over two instances on one database', () => {
  let second: TestService;
  beforeAll(async () => {
    second = await startTestService(h.db.config());
  });
  afterAll(async () => {
    await second?.stop();
  });

  it('spreads calls over both instances, which serve the same data', async () => {
    const first = h.svc;
    const created = await client(`127.0.0.1:${first.service.port}`).createProfile({ profile: newProfile('Shared') });
    const before = [await handled(first, 'GetProfile', 'OK'), await handled(second, 'GetProfile', 'OK')];
    // A static address list (one per instance); in Kubernetes the headless Service's DNS name gives the same list.
    const balanced = client(`ipv4:127.0.0.1:${first.service.port},127.0.0.1:${second.service.port}`);
    for (let i = 0; i < 20; i++) expect((await balanced.getProfile({ id: created.profile!.id })).profile).toEqual(created.profile);
    const served = [(await handled(first, 'GetProfile', 'OK')) - before[0]!, (await handled(second, 'GetProfile', 'OK')) - before[1]!];
    expect(served[0]! + served[1]!).toBe(20);
    expect(served[0]).toBeGreaterThanOrEqual(5);
    expect(served[1]).toBeGreaterThanOrEqual(5);
  });
});

describe('retries during a real database outage', () => {
  const HALF_OPEN_MS = 4000;
  let pg: Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
  let svc: TestService;
  let url: string;

  beforeAll(async () => {
    pg = await startEmbeddedTestPostgres();
    await queryUrl(pg.adminUrl, 'create database coaching_client');
    url = pg.adminUrl.replace(/\/postgres$/, '/coaching_client');
    svc = await startTestService(
      loadConfig({
        env: serviceEnv(url, {
          DB_BREAKER_CONSECUTIVE_FAILURES: '1',
          DB_BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_MS),
          DB_RETRY_MAX_ATTEMPTS: '0',
          DB_CONNECT_TIMEOUT: '2',
        }),
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await pg?.stop();
  });

  it('waits out the open breaker as the server’s pushback says, then the retried write succeeds once', async () => {
    const c = client(`127.0.0.1:${svc.service.port}`, { defaultDeadlineMs: 30_000 });
    await pg.stopServer('fast');
    // One refused connection opens the breaker; then calls fail fast with CIRCUIT_OPEN and a pushback.
    // Another target string: grpc-js keeps one retry throttle per target, and these failures must not spend the retried call's tokens.
    const raw = client(`localhost:${svc.service.port}`, { retry: { maxAttempts: 1 } });
    await waitFor('the breaker to open', async () => {
      const error = await raw.getProfile({ id: randomUUID() }).catch((e: unknown) => e);
      return error instanceof UnavailableError && error.reason === 'CIRCUIT_OPEN' && error.retryDelayMs !== undefined && error;
    });
    const unavailableBefore = await handled(svc, 'CreateProfile', 'UNAVAILABLE');
    const profile = newProfile('Retried');
    const started = Date.now();
    const call = c.createProfile({ profile });
    await pg.start();
    const created = await call;
    const elapsed = Date.now() - started;

    expect(created.profile?.email).toBe(profile.email);
    // The channel's own backoff (100 ms, doubling, 4 attempts) is spent in under 1.5 s, all inside the open
    // breaker: success needs the pushback (the time left until the half-open trial) to have been honoured.
    expect(elapsed).toBeGreaterThan(HALF_OPEN_MS / 2);
    expect((await handled(svc, 'CreateProfile', 'UNAVAILABLE')) - unavailableBefore).toBeGreaterThanOrEqual(1);
    expect(await handled(svc, 'CreateProfile', 'OK')).toBe(1);
    const rows = await queryUrl<{ n: number; keys: number }>(
      url,
      'select (select count(*)::int from profiles where email = $1) as n, (select count(*)::int from idempotency_keys) as keys',
      [profile.email],
    );
    expect(rows).toEqual([{ n: 1, keys: 1 }]);
  });
});
