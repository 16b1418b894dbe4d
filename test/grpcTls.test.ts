import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { credentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../src/generated/grpc/health/v1/health';
import { createTestCertificates, type TestCertificates } from './resilience/support/certificates';
import { sample, scrape } from './support/promtool';
import { rawConnect, rawHealthCheck } from './support/rawHttp2';
import { useHarness } from './support/harness';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';

let certs: TestCertificates;
let dir: string;
const h = useHarness({ service: false });
beforeAll(() => {
  certs = createTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'coaching-grpc-tls-'));
});
afterAll(() => {
  certs.remove();
  rmSync(dir, { recursive: true, force: true });
});

const pem = (file: string): Buffer => readFileSync(file);
const fingerprint = (certFile: string): string => new X509Certificate(pem(certFile)).fingerprint256;

/** A grpc.health.v1 client over TLS that trusts the test CA and, when given, presents a client certificate. */
function tlsHealthClient(port: number, client?: { cert: string; key: string }): HealthClient {
  const creds: ChannelCredentials =
    client === undefined ? credentials.createSsl(pem(certs.caCert)) : credentials.createSsl(pem(certs.caCert), pem(client.key), pem(client.cert));
  return new HealthClient(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
}

function checkOver(client: HealthClient, service = 'liveness'): Promise<{ status?: string; code?: number }> {
  return new Promise((resolve) => {
    client.check({ service }, new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => {
      client.close();
      resolve(error ? { code: error.code } : { status: HealthCheckResponse_ServingStatus[response.status] });
    });
  });
}

/** The leaf certificate a new TLS connection to `port` is given. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: pem(certs.caCert), ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** grpc_health_probe (on PATH, or GRPC_HEALTH_PROBE): its exit code and output. Asynchronous: the server under test runs in this process. */
function healthProbe(args: string[]): Promise<{ code: number; output: string }> {
  const binary = process.env.GRPC_HEALTH_PROBE ?? 'grpc_health_probe';
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const missing = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      if (missing) reject(new Error(`grpc_health_probe not found: put it on PATH or set GRPC_HEALTH_PROBE (${binary})`));
      else resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: `${stdout}${stderr}` });
    });
  });
}

async function withService(overrides: Record<string, string>, body: (svc: TestService) => Promise<void>): Promise<void> {
  const svc = await h.start(overrides);
  try {
    await waitFor('readiness SERVING', () => svc.service.readiness.ready);
    await body(svc);
  } finally {
    await svc.stop();
  }
}

describe('TLS on the public port', () => {
  it('serves TLS clients, refuses plaintext ones, and grpc_health_probe works with -tls', async () => {
    await withService({ GRPC_TLS_CERT_FILE: certs.direct.cert, GRPC_TLS_KEY_FILE: certs.direct.key }, async (svc) => {
      const port = svc.service.port;
      expect(await checkOver(tlsHealthClient(port), 'readiness')).toEqual({ status: 'SERVING' });
      const plaintext = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
      expect(await checkOver(plaintext)).toEqual({ code: status.UNAVAILABLE });

      const tls = ['-addr', `127.0.0.1:${port}`, '-tls', '-tls-ca-cert', certs.caCert, '-tls-server-name', 'localhost'];
      expect(await healthProbe([...tls, '-service', 'readiness'])).toMatchObject({ code: 0, output: expect.stringContaining('SERVING') });
      // Without -tls the probe cannot talk to it; with an unrelated CA it refuses the server.
      expect((await healthProbe(['-addr', `127.0.0.1:${port}`, '-service', 'readiness', '-connect-timeout', '2s'])).code).not.toBe(0);
      expect((await healthProbe([...tls.slice(0, 3), '-tls-ca-cert', certs.otherCaCert, '-tls-server-name', 'localhost'])).code).not.toBe(0);
      expect(sample((await scrape(svc.service.metricsPort!)).text, 'coaching_tls_certificate_expiry_timestamp_seconds', { listener: 'public' })).toBe(
        Math.floor(new Date(new X509Certificate(pem(certs.direct.cert)).validTo).getTime() / 1000),
      );
    });
  });

  it('mTLS "require": a client without a certificate, or with one from another CA, is refused; grpc_health_probe with a client certificate passes', async () => {
    const overrides = { GRPC_TLS_CERT_FILE: certs.direct.cert, GRPC_TLS_KEY_FILE: certs.direct.key, GRPC_TLS_CLIENT_CA_FILE: certs.caCert };
    await withService(overrides, async (svc) => {
      const port = svc.service.port;
      expect(svc.service.configInForce().grpc.tls?.clientAuth).toBe('require');
      expect(await checkOver(tlsHealthClient(port))).toEqual({ code: status.UNAVAILABLE });
      expect(await checkOver(tlsHealthClient(port, certs.otherClient))).toEqual({ code: status.UNAVAILABLE });
      expect(await checkOver(tlsHealthClient(port, certs.client), 'readiness')).toEqual({ status: 'SERVING' });

      const tls = ['-addr', `127.0.0.1:${port}`, '-tls', '-tls-ca-cert', certs.caCert, '-tls-server-name', 'localhost', '-service', 'readiness'];
      expect(await healthProbe([...tls, '-tls-client-cert', certs.client.cert, '-tls-client-key', certs.client.key])).toMatchObject({ code: 0 });
      expect((await healthProbe(tls)).code).not.toBe(0);
    });
  });

  it('mTLS "request": clients with and without a certificate are served', async () => {
    const overrides = {
      GRPC_TLS_CERT_FILE: certs.direct.cert,
      GRPC_TLS_KEY_FILE: certs.direct.key,
      GRPC_TLS_CLIENT_CA_FILE: certs.caCert,
      GRPC_TLS_CLIENT_AUTH: 'request',
    };
    await withService(overrides, async (svc) => {
      expect(await checkOver(tlsHealthClient(svc.service.port))).toEqual({ status: 'SERVING' });
      expect(await checkOver(tlsHealthClient(svc.service.port, certs.client))).toEqual({ status: 'SERVING' });
    });
  });

  it('a rotated certificate is served to new connections while an open connection keeps working; unusable files keep the previous one', async () => {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    copyFileSync(certs.direct.cert, cert);
    copyFileSync(certs.direct.key, key);
    await withService({ GRPC_TLS_CERT_FILE: cert, GRPC_TLS_KEY_FILE: key }, async (svc) => {
      const port = svc.service.port;
      const loads = async (outcome: string): Promise<number> =>
        sample((await scrape(svc.service.metricsPort!)).text, 'coaching_tls_certificate_loads_total', { listener: 'public', outcome }) ?? 0;
      expect(await servedFingerprint(port)).toBe(fingerprint(certs.direct.cert));
      const open = await rawConnect(port, { ca: pem(certs.caCert), servername: 'localhost' });
      try {
        expect(await rawHealthCheck(open.session, 'liveness')).toBe('SERVING');

        // A half-done rotation (new certificate, old key) is refused: the previous pair stays in use.
        copyFileSync(certs.chained.cert, cert);
        await waitFor('the mismatched pair refused', async () => (await loads('refused')) >= 1);
        expect(await servedFingerprint(port)).toBe(fingerprint(certs.direct.cert));
        expect(svc.logs.text()).toContain('TLS files unusable; the previous certificate stays in use');

        // The key arrives: the new pair is picked up by new connections.
        copyFileSync(certs.chained.key, key);
        await waitFor('the new certificate served', async () => ((await servedFingerprint(port)) === fingerprint(certs.chained.cert) ? true : undefined));
        // The connection opened before the rotation is still up, on its old certificate, and still served.
        expect(open.closed()).toBe(false);
        expect((open.session.socket as TLSSocket).getPeerCertificate().fingerprint256).toBe(fingerprint(certs.direct.cert));
        expect(await rawHealthCheck(open.session, 'readiness')).toBe('SERVING');
        expect(open.goaways).toEqual([]);
        // Key material never reaches the log.
        expect(svc.logs.text()).not.toContain('PRIVATE KEY');

        // A reload re-reads the files at once (no waiting for the poll).
        copyFileSync(certs.direct.cert, cert);
        copyFileSync(certs.direct.key, key);
        await svc.service.reload();
        expect(await servedFingerprint(port)).toBe(fingerprint(certs.direct.cert));
      } finally {
        open.close();
      }
    });
  });

  it('refuses to start with unusable certificate files, naming the problem', async () => {
    const start = h.start({ GRPC_TLS_CERT_FILE: certs.direct.cert, GRPC_TLS_KEY_FILE: certs.client.key });
    await expect(start).rejects.toMatchObject({ name: 'StartupError', kind: 'listener', message: expect.stringMatching(/^gRPC TLS: .*not usable/) });
  });
});
