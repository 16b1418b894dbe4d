import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../../src/config/config';
import { Role } from '../../../src/generated/coaching/v1/profile';
import type { CoachingServiceClient } from '../../../src/generated/coaching/v1/coaching_service';
import { coachingApi } from '../../support/grpcClient';
import type { TestPostgres } from '../../support/postgresServer';
import { queryUrl as pgQuery, serviceEnv } from '../../support/testDatabase';

export { pgQuery };
import { startTestService, type TestService } from '../../support/testService';
import { LoadGenerator } from './LoadGenerator';
import { ReadinessWatch } from './ReadinessWatch';
import { newProfile } from '../../support/profiles';

/** Settings that make faults show quickly in tests (the defaults are for production). */
export const FAST_RECOVERY: Record<string, string> = {
  DB_MIGRATE_ON_START: 'true',
  DB_MAX_CONNECTIONS: '5',
  DB_CONNECT_TIMEOUT: '2',
  DB_BREAKER_HALF_OPEN_AFTER_MS: '500',
  DB_BREAKER_CONSECUTIVE_FAILURES: '3',
  DB_RECONNECT_MAX_DELAY_MS: '200',
  DB_RETRY_MAX_DELAY_MS: '200',
};

export function databaseUrl(server: TestPostgres, database: string, credentials?: { user: string; password?: string }): string {
  const url = new URL(server.adminUrl);
  url.pathname = `/${database}`;
  if (credentials !== undefined) {
    url.username = credentials.user;
    url.password = credentials.password ?? '';
  }
  return url.toString();
}

/** A service on its own database of a shared test server, with known profiles, a load and a readiness watch. */
export interface ChaosWorld {
  readonly name: string;
  readonly database: string;
  readonly config: Config;
  readonly svc: TestService;
  readonly load: LoadGenerator;
  readonly readiness: ReadinessWatch;
  readonly adminUrl: string;
  /** Acknowledged creates missing from the database, and emails stored more than once. */
  verifyWrites(): Promise<{ lost: number; duplicated: number }>;
  close(): Promise<void>;
}

/** `count` coach profiles for the load to read, with emails outside the load's own tag. */
export async function createKnownProfiles(client: CoachingServiceClient, tag: string, count: number): Promise<string[]> {
  const api = coachingApi(client);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await api.ok('createProfile', {
      profile: newProfile({ role: Role.ROLE_COACH, email: `known-${i}-${randomUUID().slice(0, 6)}@${tag}.example.com`, displayName: `Known ${i}` }),
      requestId: '',
    });
    ids.push(created.profile!.id);
  }
  return ids;
}

export async function createChaosWorld(
  server: TestPostgres,
  name: string,
  options: { env?: Record<string, string>; url?: string; workers?: number; deadlineMs?: number } = {},
): Promise<ChaosWorld> {
  const database = `chaos_${name.replace(/[^a-z0-9]/g, '_')}_${randomUUID().slice(0, 6)}`;
  await pgQuery(server.adminUrl, `create database ${database}`);
  const adminUrl = databaseUrl(server, database);
  const config = loadConfig({ env: serviceEnv(options.url?.replace('{db}', database) ?? adminUrl, { ...FAST_RECOVERY, ...options.env }) });
  const svc = await startTestService(config);
  const knownIds = await createKnownProfiles(svc.client, name, 10);
  const load = new LoadGenerator(svc.client, { workers: options.workers ?? 4, deadlineMs: options.deadlineMs ?? 2000, knownIds, tag: name });
  const readiness = new ReadinessWatch(svc.service.port);
  readiness.start();
  return {
    name,
    database,
    config,
    svc,
    load,
    readiness,
    adminUrl,
    async verifyWrites() {
      const rows = await pgQuery<{ email: string; n: number; ids: string[] }>(
        adminUrl,
        `select email, count(*)::int as n, array_agg(id::text) as ids from profiles where email like $1 group by email`,
        [`${name}-%`],
      );
      const byEmail = new Map(rows.map((r) => [r.email, r]));
      const lost = load.acknowledged.filter((a) => !byEmail.get(a.email)?.ids.includes(a.id)).length;
      const duplicated = rows.filter((r) => r.n > 1).length;
      return { lost, duplicated };
    },
    async close() {
      readiness.stop();
      await load.stop();
      await svc.stop();
      await pgQuery(server.adminUrl, `drop database if exists ${database} with (force)`).catch(() => undefined);
    },
  };
}
