import type { Config } from '../../src/config/config';
import type { SecretRegistry } from '../../src/log/SecretRegistry';
import { coachingApi } from './grpcClient';
import { createTestDatabase, type TestDatabase } from './testDatabase';
import { startTestService, type TestService } from './testService';
import { tableCounts, world } from './world';

/** What a test file works with: its own database, the real service on it, a real client and fixtures. */
export interface Harness {
  readonly db: TestDatabase;
  readonly svc: TestService;
  readonly api: ReturnType<typeof coachingApi>;
  readonly w: ReturnType<typeof world>;
  /** Row counts of every resource table (to assert what was not written). */
  counts(): Promise<Record<string, number>>;
}

/** How a file's harness differs from the default one. */
export interface HarnessOptions {
  /** Environment keys on top of the test database's configuration (e.g. shorter health intervals). */
  readonly env?: Readonly<Record<string, string>>;
  /** Log level of the captured logs (default info). */
  readonly logLevel?: string;
  readonly secrets?: SecretRegistry;
  /** Configuration for reloads, from the start one. */
  readonly reloadConfig?: (start: Config) => Config;
  /** Runs after the service is up (open extra clients); `teardown` before it stops. */
  readonly setup?: (harness: Harness) => Promise<void> | void;
  readonly teardown?: (harness: Harness) => Promise<void> | void;
}

/**
 * Registers the file's beforeAll/afterAll: a database cloned from the
 * migrated template and a service on 127.0.0.1:0. The returned object is
 * usable inside tests (it throws if touched before beforeAll ran).
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  let state: Omit<Harness, 'counts'> | undefined;
  beforeAll(async () => {
    const db = await createTestDatabase();
    const config = db.config({ ...options.env });
    const { reloadConfig } = options;
    const svc = await startTestService(config, {
      ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
      ...(options.secrets !== undefined && { secrets: options.secrets }),
      ...(reloadConfig !== undefined && { reloadConfig: () => reloadConfig(config) }),
    });
    const api = coachingApi(svc.client);
    state = { db, svc, api, w: world(api) };
    await options.setup?.(harness);
  });
  afterAll(async () => {
    if (state !== undefined) await options.teardown?.(harness);
    await state?.svc.stop();
    await state?.db.drop();
  });
  const current = () => {
    if (state === undefined) throw new Error('the harness is set up in beforeAll; use it inside tests');
    return state;
  };
  const harness: Harness = {
    get db() {
      return current().db;
    },
    get svc() {
      return current().svc;
    },
    get api() {
      return current().api;
    },
    get w() {
      return current().w;
    },
    counts: () => tableCounts((text) => current().db.query(text)),
  };
  return harness;
}
