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

/**
 * Registers the file's beforeAll/afterAll: a database cloned from the
 * migrated template and a service on 127.0.0.1:0. The returned object is
 * usable inside tests (it throws if touched before beforeAll ran).
 */
export function useHarness(configOverrides: Record<string, string> = {}): Harness {
  let state: Omit<Harness, 'counts'> | undefined;
  beforeAll(async () => {
    const db = await createTestDatabase();
    const svc = await startTestService(db.config(configOverrides));
    const api = coachingApi(svc.client);
    state = { db, svc, api, w: world(api) };
  });
  afterAll(async () => {
    await state?.svc.stop();
    await state?.db.drop();
  });
  const current = () => {
    if (state === undefined) throw new Error('the harness is set up in beforeAll; use it inside tests');
    return state;
  };
  return {
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
}
