import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { CircuitState } from '../src/generated/coaching/admin/v1/admin_service';
import { createTestCertificates, type TestCertificates } from './resilience/support/certificates';
import { adminApi } from './support/adminClient';
import { grpcHealthApi } from './support/healthClient';
import { sample, scrape } from './support/promtool';
import { reflectionClient } from './support/reflectionClient';
import { useHarness } from './support/harness';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';

const TOKEN = 'admin-token-0f3c9a1b7e2d4c5f';
const ROTATED = 'admin-token-rotated-9d8e7f6a5b4c';

let certs: TestCertificates;
let dir: string;
let tokenFile: string;
const h = useHarness({ service: false });
beforeAll(() => {
  certs = createTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'coaching-admin-'));
  tokenFile = join(dir, 'admin-token');
});
afterAll(() => {
  certs.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function withService(overrides: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await h.start(overrides);
  try {
    await body(svc);
  } finally {
    await svc.stop();
  }
}

const audits = (svc: TestService) => svc.logs.records().filter((r) => r.audit === true);

describe('the admin listener', () => {
  it('has a port of its own, with its own grpc.health.v1 and reflection listing only what it serves', async () => {
    await withService({}, async (svc) => {
      const adminPort = svc.service.adminPort!;
      expect(adminPort).toBeGreaterThan(0);
      expect(adminPort).not.toBe(svc.service.port);
      const health = grpcHealthApi(adminPort);
      expect((await health.ok('check', { service: 'coaching.admin.v1.AdminService' })).status).toBe(1);
      // The public statuses are not published here, and the coaching API is not served here.
      expect((await health.call('check', { service: 'readiness' })).error?.code).toBe(status.NOT_FOUND);
      health.client.close();
      const reflection = reflectionClient(adminPort);
      try {
        const listed = await reflection.ask({ list_services: '' });
        expect(listed.list_services_response!.service.map((s) => s.name).sort()).toEqual([
          'coaching.admin.v1.AdminService',
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
        ]);
      } finally {
        reflection.client.close();
      }
    });
  });

  it('with ADMIN_TOKEN_FILE refuses calls without the token (UNAUTHENTICATED, audited), accepts the token, follows its rotation and never logs it', async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    await withService({ ADMIN_TOKEN_FILE: tokenFile }, async (svc) => {
      const port = svc.service.adminPort!;
      const anonymous = adminApi(port);
      const wrong = adminApi(port, { token: 'not-the-admin-token-at-all' });
      const right = adminApi(port, { token: TOKEN });
      const rotated = adminApi(port, { token: ROTATED });
      try {
        const refused = await anonymous.call('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: '' });
        expect(refused.error?.code).toBe(status.UNAUTHENTICATED);
        expect(refused.error?.details).toMatch(/requires an admin token/);
        expect((await wrong.call('resetCircuitBreaker', { dependency: 'postgresql-primary', reason: '' })).error?.code).toBe(status.UNAUTHENTICATED);
        // Nothing happened.
        expect(svc.service.policy.breakerState()).toBe('closed');
        expect(audits(svc).map((r) => [r.action, r.outcome, r.tokenPresented, r.target])).toEqual([
          ['isolate', 'denied', false, 'postgresql-primary'],
          ['reset', 'denied', true, 'postgresql-primary'],
        ]);

        const listed = await right.ok('listCircuitBreakers', {});
        expect(listed.circuitBreakers.map((b) => [b.dependency, b.state])).toEqual([['postgresql-primary', CircuitState.CIRCUIT_STATE_CLOSED]]);
        await right.ok('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: 'token test' });
        await right.ok('resetCircuitBreaker', { dependency: 'postgresql-primary', reason: '' });
        expect(audits(svc).at(-2)).toMatchObject({ action: 'isolate', outcome: 'ok', tokenPresented: true, before: 'closed', after: 'isolated' });

        // Rotation: the file changes, the new token is accepted and the old one refused.
        writeFileSync(tokenFile, `${ROTATED}\n`);
        await waitFor('the rotated token accepted', async () => ((await rotated.call('listCircuitBreakers', {})).error === undefined ? true : undefined));
        expect((await right.call('listCircuitBreakers', {})).error?.code).toBe(status.UNAUTHENTICATED);
        // An unusable new token (too short) keeps the one in force.
        writeFileSync(tokenFile, 'short\n');
        await svc.service.reload();
        expect((await rotated.call('listCircuitBreakers', {})).error).toBeUndefined();
        expect(svc.logs.text()).toContain('admin token file unusable; the previous token stays in force');

        const text = svc.logs.text();
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(ROTATED);
        expect(text).not.toContain('not-the-admin-token-at-all');
        const metrics = (await scrape(svc.service.metricsPort!)).text;
        expect(sample(metrics, 'coaching_admin_actions_total', { action: 'isolate', outcome: 'denied' })).toBe(1);
        expect(sample(metrics, 'coaching_admin_actions_total', { action: 'isolate', outcome: 'ok' })).toBe(1);
      } finally {
        for (const c of [anonymous, wrong, right, rotated]) c.client.close();
      }
    });
  });

  it('with mTLS refuses clients without a certificate of its CA, and audits the certificate subject of the caller', async () => {
    const overrides = {
      ADMIN_TLS_CERT_FILE: certs.direct.cert,
      ADMIN_TLS_KEY_FILE: certs.direct.key,
      ADMIN_TLS_CLIENT_CA_FILE: certs.caCert,
    };
    await withService(overrides, async (svc) => {
      const port = svc.service.adminPort!;
      const channelOptions = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
      const ca = readFileSync(certs.caCert);
      const pair = (c: { cert: string; key: string }) => [readFileSync(c.key), readFileSync(c.cert)] as const;
      const plain = adminApi(port);
      const noCert = adminApi(port, { credentials: credentials.createSsl(ca), channelOptions });
      const otherCa = adminApi(port, { credentials: credentials.createSsl(ca, ...pair(certs.otherClient)), channelOptions });
      const alice = adminApi(port, { credentials: credentials.createSsl(ca, ...pair(certs.client)), channelOptions });
      try {
        for (const refused of [plain, noCert, otherCa]) {
          expect((await refused.call('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: '' })).error?.code).toBe(status.UNAVAILABLE);
        }
        expect(svc.service.policy.breakerState()).toBe('closed');
        await alice.ok('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: 'mtls test' });
        expect(svc.service.policy.breakerState()).toBe('isolated');
        expect(audits(svc)).toEqual([
          expect.objectContaining({ action: 'isolate', outcome: 'ok', certificateSubject: 'O=coaching ops, CN=ops-alice', tokenPresented: false }),
        ]);
        await alice.ok('resetCircuitBreaker', { dependency: 'postgresql-primary', reason: '' });
      } finally {
        for (const c of [plain, noCert, otherCa, alice]) c.client.close();
      }
    });
  });

  it('ADMIN_GRPC_ENABLED=false serves no admin listener', async () => {
    await withService({ ADMIN_GRPC_ENABLED: 'false' }, (svc) => {
      expect(svc.service.adminPort).toBeUndefined();
      expect(svc.service.admin).toBeUndefined();
      return Promise.resolve();
    });
  });
});
