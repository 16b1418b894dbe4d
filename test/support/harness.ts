import type { Config } from '../../src/config/config';
import type { SecretRegistry } from '../../src/log/SecretRegistry';
import { coachingApi } from './grpcClient';
import { freePort } from './postgresServer';
import { ensureBuilt, serviceProcessEnv, startNode, stopIfRunning, type NodeProcess } from './processes';
import { waitUntilServing } from './serving';
import { createTestDatabase, type TestDatabase } from './testDatabase';
import { startTestService, type TestService, type TestServiceOptions } from './testService';
import { tableCounts, world } from './world';

const NOT_SET_UP = 'the harness is set up in beforeAll; use it inside tests';

/** A value the harness's beforeAll sets: it, or a clear error when a test file reads it outside a test. */
function setUp<T>(value: T | undefined, message = NOT_SET_UP): T {
  if (value === undefined) throw new Error(message);
  return value;
}

/** What a test file works with: its own database, the real service on it, a real client and fixtures. */
export interface Harness {
  readonly db: TestDatabase;
  readonly svc: TestService;
  readonly api: ReturnType<typeof coachingApi>;
  readonly w: ReturnType<typeof world>;
  /** Row counts of every resource table (to assert what was not written). */
  counts(): Promise<Record<string, number>>;
  /** Starts another service on the file's database with `env` (not the harness's `env`); one still running at afterAll is stopped then. */
  start(env?: Readonly<Record<string, string>>, options?: TestServiceOptions): Promise<TestService>;
}

/** How a file's harness differs from the default one. */
export interface HarnessOptions {
  /** Environment keys on top of the test database's configuration (e.g. shorter health intervals); a function is read after `beforeStart`. */
  readonly env?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** Log level of the captured logs (default info). */
  readonly logLevel?: string;
  readonly secrets?: SecretRegistry;
  /** Configuration for reloads, from the start one. */
  readonly reloadConfig?: (start: Config) => Config;
  /** false: an empty database instead of a clone of the migrated template (with `service: false`). */
  readonly fromTemplate?: boolean;
  /** false: only the database; the file starts its services itself with `start` (one per test, each with its own settings). */
  readonly service?: boolean;
  /** Runs on the database before the service starts (arrange rows the start must see). */
  readonly beforeStart?: (db: TestDatabase) => Promise<void> | void;
  /** Runs after the service is up (open extra clients); `teardown` before it stops. */
  readonly setup?: (harness: Harness) => Promise<void> | void;
  readonly teardown?: (harness: Harness) => Promise<void> | void;
}

/**
 * Registers the file's beforeAll/afterAll: a database cloned from the
 * migrated template and a service on 127.0.0.1:0. The returned object is
 * usable inside tests (it throws if touched before beforeAll ran); a file
 * keeps its own names with one line, `beforeAll(() => ({ db, svc } = h))`
 * (README "Design decisions", "Test harness").
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  let database: TestDatabase | undefined;
  let state: { svc: TestService; api: ReturnType<typeof coachingApi>; w: ReturnType<typeof world> } | undefined;
  const started = new Set<TestService>();
  beforeAll(async () => {
    database = await createTestDatabase(options.fromTemplate === false ? { fromTemplate: false } : {});
    await options.beforeStart?.(database);
    if (options.service !== false) {
      const config = database.config({ ...(typeof options.env === 'function' ? options.env() : options.env) });
      const { reloadConfig } = options;
      const svc = await startTestService(config, {
        ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
        ...(options.secrets !== undefined && { secrets: options.secrets }),
        ...(reloadConfig !== undefined && { reloadConfig: () => reloadConfig(config) }),
      });
      const api = coachingApi(svc.client);
      state = { svc, api, w: world(api) };
    }
    await options.setup?.(harness);
  });
  afterAll(async () => {
    if (database !== undefined) await options.teardown?.(harness);
    for (const svc of started) await svc.stop();
    await state?.svc.stop();
    await database?.drop();
  });
  const db = (): TestDatabase => setUp(database);
  const current = () => setUp(state, options.service === false ? 'this harness has no service (service: false); use start()' : NOT_SET_UP);
  const harness: Harness = {
    get db() {
      return db();
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
    counts: () => tableCounts((text) => db().query(text)),
    async start(env = {}, serviceOptions = {}) {
      const svc = await startTestService(db().config({ ...env }), serviceOptions);
      const stop = svc.stop.bind(svc);
      started.add(svc);
      return Object.assign(svc, {
        stop: async () => {
          started.delete(svc);
          await stop();
        },
      });
    },
  };
  return harness;
}

/** A file's own database and the service as a child process (`node dist/src/main.js`, as `npm start` runs it). */
export interface ProcessHarness {
  readonly db: TestDatabase;
  readonly service: NodeProcess;
  readonly port: number;
}

export interface ProcessHarnessOptions {
  /** Environment keys on top of `serviceProcessEnv`, read when the process starts (after `beforeStart`). */
  readonly env?: () => Readonly<Record<string, string>>;
  /** Runs before the process starts (start a receiver the env points at). */
  readonly beforeStart?: (db: TestDatabase) => Promise<void> | void;
}

/** useHarness for a service process: the same beforeAll/afterAll and the same one-line binding, `beforeAll(() => ({ db, service, port } = p))`. */
export function useServiceProcess(options: ProcessHarnessOptions = {}): ProcessHarness {
  let state: ProcessHarness | undefined;
  let database: TestDatabase | undefined;
  let child: NodeProcess | undefined;
  beforeAll(async () => {
    ensureBuilt();
    database = await createTestDatabase();
    await options.beforeStart?.(database);
    const port = await freePort();
    child = startNode('dist/src/main.js', [], serviceProcessEnv(port, database.url, { ...options.env?.() }));
    await waitUntilServing(child, port);
    state = { db: database, service: child, port };
  });
  afterAll(async () => {
    await stopIfRunning(child);
    await database?.drop();
  });
  const current = (): ProcessHarness => setUp(state);
  return {
    get db() {
      return current().db;
    },
    get service() {
      return current().service;
    },
    get port() {
      return current().port;
    },
  };
}
