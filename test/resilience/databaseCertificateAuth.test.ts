/**
 * DB_AUTH=certificate against a real PostgreSQL that authenticates the role
 * by its TLS client certificate (pg_hba "cert"), with no password at all: a
 * staging service starts and serves on it; without the certificate it is refused.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { StartupError } from '../../src/db/prepareDatabase';
import { coachingApi } from '../support/grpcClient';
import { startEmbeddedTestPostgres } from '../support/postgresServer';
import { queryUrl, serviceEnv } from '../support/testDatabase';
import { startTestService } from '../support/testService';
import { createTestCertificates, type TestCertificates } from './support/certificates';
import { newProfile } from './support/fixtures';

const ROLE = 'coaching_cert';
let certs: TestCertificates;
let pg: Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
let databaseUrl: string;

beforeAll(async () => {
  certs = createTestCertificates();
  // The superuser keeps its password; the service's role may log in only with a certificate of the test CA.
  const hba = join(certs.dir, 'pg_hba.conf');
  writeFileSync(
    hba,
    [
      'local all all scram-sha-256',
      'host all postgres 127.0.0.1/32 scram-sha-256',
      `hostssl all ${ROLE} 127.0.0.1/32 cert`,
      `hostssl all ${ROLE} ::1/128 cert`,
      '',
    ].join('\n'),
  );
  chmodSync(hba, 0o644);
  pg = await startEmbeddedTestPostgres({
    postgresFlags: [
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${certs.direct.cert}`,
      '-c',
      `ssl_key_file=${certs.direct.key}`,
      '-c',
      `ssl_ca_file=${certs.caCert}`,
      '-c',
      `hba_file=${hba}`,
    ],
  });
  await queryUrl(pg.adminUrl, `create role ${ROLE} login`);
  await queryUrl(pg.adminUrl, `create database coaching_cert_db owner ${ROLE}`);
  databaseUrl = `postgresql://${ROLE}@localhost:${pg.port}/coaching_cert_db`;
});
afterAll(async () => {
  await pg?.stop();
  certs?.remove();
});

const stagingEnv = (overrides: Record<string, string>) =>
  serviceEnv(databaseUrl, {
    APP_ENV: 'staging',
    PAGE_TOKEN_SECRET: 'staging-page-token-secret',
    DB_MIGRATE_ON_START: 'true',
    DB_SSL_MODE: 'verify-full',
    DB_SSL_ROOT_CERT: certs.caCert,
    ADMIN_GRPC_PORT: '0',
    METRICS_PORT: '0',
    ...overrides,
  });

it('a staging service without any password starts and serves with DB_AUTH=certificate and a client certificate', async () => {
  const config = loadConfig({ env: stagingEnv({ DB_AUTH: 'certificate', DB_SSL_CERT: certs.databaseClient.cert, DB_SSL_KEY: certs.databaseClient.key }) });
  expect(config.db).toMatchObject({ auth: 'certificate', password: { kind: 'none' } });
  const svc = await startTestService(config);
  try {
    const api = coachingApi(svc.client);
    const created = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    expect((await api.ok('getProfile', { id: created.id })).profile?.email).toBe(created.email);
    const rows = await queryUrl<{ ssl: boolean; client_dn: string | null }>(
      pg.adminUrl.replace(/\/postgres$/, '/coaching_cert_db'),
      `select s.ssl, s.client_dn from pg_stat_activity a join pg_stat_ssl s using (pid) where a.usename = $1 and a.application_name = 'coaching-service'`,
      [ROLE],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.ssl && r.client_dn === `/CN=${ROLE}`)).toBe(true);
  } finally {
    await svc.stop();
  }
});

it('without the client certificate the same role is refused as a credentials problem, and staging would not accept no password otherwise', async () => {
  expect(() => loadConfig({ env: stagingEnv({}) })).toThrow(/DB_PASSWORD is required when APP_ENV=staging/);
  const config = loadConfig({ env: stagingEnv({ DB_AUTH: 'trust' }) });
  await expect(startTestService(config)).rejects.toEqual(expect.any(StartupError));
  await expect(startTestService(config)).rejects.toMatchObject({ kind: 'credentials' });
});
