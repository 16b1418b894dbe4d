import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { formatSubject, MAX_SUBJECT_LENGTH } from '../src/admin/caller';
import { createTestCertificates, type TestCertificates } from './resilience/support/certificates';
import { adminApi } from './support/adminClient';
import { sample, scrape } from './support/promtool';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';

/**
 * The admin listener audits every attempt, also those refused before any
 * handler runs (bytes that do not decode) and those without the token: who,
 * what was attempted, why it was refused, in the log and the metric. A
 * certificate subject is written escaped and bounded.
 */
const TOKEN = 'admin-token-audit-7c1d2e3f4a5b';
let db: TestDatabase;
let certs: TestCertificates;
let dir: string;
const h = useHarness({ service: false });
beforeAll(() => {
  ({ db } = h);
  certs = createTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'coaching-admin-audit-'));
});
afterAll(() => {
  certs.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function withService(overrides: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await startTestService(db.config(overrides));
  try {
    await body(svc);
  } finally {
    await svc.stop();
  }
}

const audits = (svc: TestService) => svc.logs.records().filter((r) => r.audit === true);
const identity = (b: Buffer): Buffer => b;

/** One admin call with raw request bytes (what no generated client sends). */
function rawAdminCall(port: number, method: string, bytes: Buffer, token?: string): Promise<number> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return new Promise<number>((resolve) => {
    client.makeUnaryRequest(`/coaching.admin.v1.AdminService/${method}`, identity, identity, bytes, metadata, { deadline: Date.now() + 10_000 }, (error) => {
      client.close();
      resolve(error?.code ?? status.OK);
    });
  });
}

describe('admin audit of refused calls', () => {
  it('audits undecodable requests and calls without (or with a wrong) token, with the refusal reason and in the metric', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    await withService({ ADMIN_TOKEN_FILE: tokenFile }, async (svc) => {
      const port = svc.service.adminPort!;
      const garbage = Buffer.from([0x0a, 0xff, 0x01]);
      expect(await rawAdminCall(port, 'IsolateCircuitBreaker', garbage)).toBe(status.INVALID_ARGUMENT);
      expect(await rawAdminCall(port, 'ResetCircuitBreaker', garbage, TOKEN)).toBe(status.INVALID_ARGUMENT);
      const anonymous = adminApi(port);
      const wrong = adminApi(port, { token: 'not-the-admin-token-at-all' });
      try {
        expect((await anonymous.call('isolateCircuitBreaker', { dependency: 'postgresql-primary', reason: '' })).error?.code).toBe(status.UNAUTHENTICATED);
        expect((await wrong.call('listCircuitBreakers', {})).error?.code).toBe(status.UNAUTHENTICATED);
      } finally {
        anonymous.client.close();
        wrong.client.close();
      }
      expect(svc.service.policy.breakerState()).toBe('closed');
      expect(audits(svc).map((r) => [r.action, r.outcome, r.target, r.tokenPresented, r.errorReason, r.refusal])).toEqual([
        ['isolate', 'denied', null, false, 'INVALID_ARGUMENT', 'the request did not decode; no admin token'],
        ['reset', 'failed', null, true, 'INVALID_ARGUMENT', 'the request did not decode'],
        ['isolate', 'denied', 'postgresql-primary', false, 'UNAUTHENTICATED', 'no admin token'],
        ['list', 'denied', null, true, 'UNAUTHENTICATED', 'wrong admin token'],
      ]);
      for (const entry of audits(svc)) expect(entry.peer).toMatch(/^(127\.0\.0\.1|\[?::ffff:127\.0\.0\.1\]?|\[?::1\]?):\d+$/);
      const metrics = (await scrape(svc.service.metricsPort!)).text;
      expect(sample(metrics, 'coaching_admin_actions_total', { action: 'isolate', outcome: 'denied', target: 'none' })).toBe(1);
      expect(sample(metrics, 'coaching_admin_actions_total', { action: 'reset', outcome: 'failed', target: 'none' })).toBe(1);
      expect(svc.logs.text()).not.toContain(TOKEN);
    });
  });

  it('writes a hostile certificate subject escaped (no attribute can be forged) and bounded', async () => {
    const overrides = { ADMIN_TLS_CERT_FILE: certs.direct.cert, ADMIN_TLS_KEY_FILE: certs.direct.key, ADMIN_TLS_CLIENT_CA_FILE: certs.caCert };
    await withService(overrides, async (svc) => {
      const ca = readFileSync(certs.caCert);
      const bob = adminApi(svc.service.adminPort!, {
        credentials: credentials.createSsl(ca, readFileSync(certs.oddClient.key), readFileSync(certs.oddClient.cert)),
        channelOptions: { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' },
      });
      try {
        await bob.ok('listCircuitBreakers', {});
      } finally {
        bob.client.close();
      }
      const subject = String(audits(svc)[0]?.certificateSubject);
      expect(subject.startsWith('O=ops\\, inc., OU=00')).toBe(true);
      expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(subject.endsWith('…')).toBe(true);
      // Unescaped ", " separates attributes only: the CN's ", O=admins" is not an attribute of its own.
      expect(subject.split(/(?<!\\), /).every((part) => /^(O|OU|CN)=/.test(part))).toBe(true);
    });
  });
});

describe('formatSubject', () => {
  it('escapes RFC 4514 specials and control characters, and keeps short subjects whole', () => {
    expect(formatSubject({ O: 'coaching ops', CN: 'ops-alice' })).toBe('O=coaching ops, CN=ops-alice');
    expect(formatSubject({ CN: 'bob, O=admins "q" \\ <x>;+' })).toBe('CN=bob\\, O\\=admins \\"q\\" \\\\ \\<x\\>\\;\\+');
    expect(formatSubject({ CN: 'a\nb\u0000c\u007f' })).toBe('CN=a\\0Ab\\00c\\7F');
    expect(formatSubject({ CN: ' #lead', OU: ['x', 'y '] })).toBe('CN=\\ #lead, OU=x+y\\ ');
    expect(formatSubject({ CN: 'ключ 😀' })).toBe('CN=ключ 😀');
  });

  it('cuts a long subject without splitting a code point', () => {
    for (let pad = 0; pad < 4; pad++) {
      const text = formatSubject({ CN: `${'x'.repeat(pad)}${'😀'.repeat(400)}` });
      expect(text.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(text.isWellFormed()).toBe(true);
    }
  });
});
