/**
 * Database TLS against real PostgreSQL servers with certificates generated
 * here: one presents a leaf signed by the root CA, the other a leaf signed by
 * an intermediate plus that intermediate (as managed databases do). Both name
 * DNS:localhost only. Verification problems fail fast with kind 'tls', never a
 * degraded start that waits for a database it will never trust.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { startService } from '../../src/app';
import { loadConfig, type Config } from '../../src/config/config';
import { StartupError } from '../../src/db/prepareDatabase';
import { createLogger } from '../../src/log/createLogger';
import { SecretRegistry } from '../../src/log/SecretRegistry';
import { coachingApi } from '../support/grpcClient';
import { freePort, startEmbeddedTestPostgres } from '../support/postgresServer';
import { serviceEnv } from '../support/testDatabase';
import { startTestService } from '../support/testService';
import { describeWithTools } from '../support/systemTools';
import { createTestCertificates, type ServerCertificate, type TestCertificates } from './support/certificates';
import { createEmptyDatabase, isListening, newProfile, queryOnce } from './support/fixtures';
import { healthProbe } from './support/health';
import { timed } from './support/timed';

const PASSWORD = 'Tls-Test-Pa55';

type EmbeddedPg = Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
type ServerName = 'direct' | 'chained';
let certs: TestCertificates;
const servers = new Map<ServerName, EmbeddedPg>();

function server(name: ServerName): EmbeddedPg {
  const pg = servers.get(name);
  if (pg === undefined) throw new Error(`server ${name} did not start`);
  return pg;
}

async function startTlsPostgres(certificate: ServerCertificate): Promise<EmbeddedPg> {
  return startEmbeddedTestPostgres({
    password: PASSWORD,
    postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${certificate.cert}`, '-c', `ssl_key_file=${certificate.key}`],
  });
}

/** A service configuration for a new, empty database on `name`, with a free gRPC port. */
async function configFor(name: ServerName, tls: Record<string, string>): Promise<{ config: Config; databaseUrl: string }> {
  const db = await createEmptyDatabase(server(name).adminUrl);
  const config = loadConfig({
    env: serviceEnv(db.url, { GRPC_PORT: String(await freePort()), DB_CONNECT_TIMEOUT: '3', DB_MIGRATE_ON_START: 'true', ...tls }),
  });
  return { config, databaseUrl: db.url };
}

/** TLS state of the service's connections to `databaseUrl`'s database, as the server sees them. */
async function serviceConnectionsEncrypted(databaseUrl: string): Promise<boolean[]> {
  const rows = await queryOnce<{ ssl: boolean }>(
    databaseUrl,
    `select s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid)
      where a.datname = current_database() and a.application_name = 'coaching-service'`,
  );
  return rows.map((r) => r.ssl);
}

/** Starts the service, proves it serves on an encrypted pool, and stops it. */
async function expectServesOverTls(config: Config, databaseUrl: string): Promise<void> {
  const svc = await startTestService(config);
  const health = healthProbe(svc.service.port);
  try {
    expect(await health.check('readiness')).toBe('SERVING');
    const api = coachingApi(svc.client);
    const created = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    expect((await api.ok('getProfile', { id: created.id })).profile?.email).toBe(created.email);
    expect(await queryOnce(databaseUrl, 'select email from profiles')).toEqual([{ email: created.email }]);
    const encrypted = await serviceConnectionsEncrypted(databaseUrl);
    expect(encrypted.length).toBeGreaterThan(0);
    expect(encrypted.every(Boolean)).toBe(true);
  } finally {
    health.close();
    await svc.stop();
  }
}

/** Starts the service expecting a 'tls' refusal: fast, nothing listening, nothing migrated. */
async function expectTlsRefusal(config: Config, databaseUrl: string): Promise<StartupError> {
  expect(config.resilience.requireOnStartup).toBe(false);
  const secrets = new SecretRegistry();
  const outcome = await timed(() => startService(config, { logger: createLogger({ level: 'silent', secrets }), secrets }));
  if (outcome.value !== undefined) await outcome.value.stop();
  expect(outcome.error).toBeInstanceOf(StartupError);
  const error = outcome.error as StartupError;
  // Together, so that a wrong kind shows the message (and driver code) that came with it.
  expect({ kind: error.kind, message: error.message }).toEqual({ kind: 'tls', message: expect.stringContaining('DB_SSL_ROOT_CERT') });
  expect(error.message).not.toContain(PASSWORD);
  expect(outcome.ms).toBeLessThan(5_000);
  expect(await isListening(config.grpc.port)).toBe(false);
  expect(await queryOnce(databaseUrl, `select to_regclass('schema_migrations') as t`)).toEqual([{ t: null }]);
  return error;
}

describeWithTools(['openssl'], 'TLS to PostgreSQL', () => {
  beforeAll(async () => {
    certs = createTestCertificates();
    const [direct, chained] = await Promise.allSettled([startTlsPostgres(certs.direct), startTlsPostgres(certs.chained)]);
    if (direct.status === 'fulfilled') servers.set('direct', direct.value);
    if (chained.status === 'fulfilled') servers.set('chained', chained.value);
    for (const result of [direct, chained]) if (result.status === 'rejected') throw result.reason;
  });
  afterAll(async () => {
    for (const pg of servers.values()) await pg.stop();
    certs?.remove();
  });

  describe('DB_SSL_MODE=verify-full', () => {
    it.each<ServerName>(['direct', 'chained'])('right CA and DB_HOST=localhost: serves, every service connection encrypted (%s certificate)', async (name) => {
      const { config, databaseUrl } = await configFor(name, { DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: certs.caCert, DB_HOST: 'localhost' });
      await expectServesOverTls(config, databaseUrl);
    });

    it.each<[ServerName, string, () => string]>([
      ['direct', 'a CA that did not sign it', () => certs.otherCaCert],
      ['chained', 'a CA that did not sign it', () => certs.otherCaCert],
      ['chained', 'the intermediate instead of the root CA', () => certs.intermediateCert],
    ])('%s certificate, DB_SSL_ROOT_CERT is %s: StartupError tls naming DB_SSL_ROOT_CERT', async (name, _what, rootCert) => {
      const { config, databaseUrl } = await configFor(name, { DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: rootCert(), DB_HOST: 'localhost' });
      const error = await expectTlsRefusal(config, databaseUrl);
      expect(error.message).toContain(`TLS verification of PostgreSQL at localhost:${server(name).port} failed`);
    });

    it('right CA but DB_HOST=127.0.0.1, a name the certificate does not carry: StartupError tls naming DB_HOST', async () => {
      const { config, databaseUrl } = await configFor('direct', { DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: certs.caCert, DB_HOST: '127.0.0.1' });
      const error = await expectTlsRefusal(config, databaseUrl);
      expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(error.message).toContain('DB_HOST');
    });
  });

  describe('DB_SSL_MODE=verify-ca', () => {
    it('checks the CA but not the name: DB_HOST=127.0.0.1 serves', async () => {
      const { config, databaseUrl } = await configFor('direct', { DB_SSL_MODE: 'verify-ca', DB_SSL_ROOT_CERT: certs.caCert, DB_HOST: '127.0.0.1' });
      await expectServesOverTls(config, databaseUrl);
    });

    it('refuses a server its CA did not sign', async () => {
      const { config, databaseUrl } = await configFor('direct', { DB_SSL_MODE: 'verify-ca', DB_SSL_ROOT_CERT: certs.otherCaCert, DB_HOST: '127.0.0.1' });
      await expectTlsRefusal(config, databaseUrl);
    });
  });

  describe('DB_SSL_MODE=require', () => {
    it('encrypts without verifying: no root certificate, DB_HOST=127.0.0.1, serves over TLS', async () => {
      const { config, databaseUrl } = await configFor('chained', { DB_SSL_MODE: 'require', DB_HOST: '127.0.0.1' });
      expect(config.db.sslRootCert).toBeUndefined();
      await expectServesOverTls(config, databaseUrl);
    });
  });

  it('DB_SSL_MODE=disable on the same servers stays in plain text: encryption above came from the mode, not the server', async () => {
    const { config, databaseUrl } = await configFor('direct', { DB_SSL_MODE: 'disable' });
    const svc = await startTestService(config);
    try {
      expect((await coachingApi(svc.client).call('getProfile', { id: randomUUID() })).error?.code).toBe(status.NOT_FOUND);
      const encrypted = await serviceConnectionsEncrypted(databaseUrl);
      expect(encrypted.length).toBeGreaterThan(0);
      expect(encrypted.some(Boolean)).toBe(false);
    } finally {
      await svc.stop();
    }
  });
});
