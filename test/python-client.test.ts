import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { runCommand } from './support/cliTools';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import { describeWithTools, requireTool } from './support/systemTools';
import type { TestService } from './support/testService';

// The Debian interpreter (scripts/system-tools.json): its python3-grpcio / python3-grpc-tools are what provisioning installs (a pyenv python3 on PATH has neither).
let PYTHON = '/usr/bin/python3';

interface Step {
  readonly step: string;
  readonly code: string;
  readonly details?: string;
  readonly response?: Record<string, any>;
}
interface Run {
  readonly email: string;
  readonly request_id: string;
  readonly id: string;
  readonly listed_ids: string[];
  readonly list_pages: number;
  readonly steps: Step[];
}

describeWithTools(['python3-grpc'], 'independent Python grpcio clients', () => {
  let db: TestDatabase;
  let svc: TestService;

  const h = useHarness();
  beforeAll(() => {
    PYTHON = requireTool('python3-grpc');
    ({ db, svc } = h);
  });

  /** Runs a Python client script against the service (asynchronously: the server lives in this process); fails with its output. */
  async function runPython(script: string): Promise<{ stdout: string; stderr: string }> {
    const run = await runCommand(PYTHON, [join(PROJECT_ROOT, 'scripts', script), `127.0.0.1:${svc.service.port}`], { timeoutMs: 60_000 });
    if (run.code !== 0) throw new Error(`${script} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
    return run;
  }

  it('a Python grpcio client generated from proto/ creates, reads, lists, updates and deletes profiles', async () => {
    // Coaches already present, so listing has to page (page_size=2) to find the new one.
    await db.query(
      `insert into profiles (role, email, display_name, timezone) select 'COACH', 'py-seed' || i || '@example.com', 'Seed ' || i, 'UTC' from generate_series(1, 5) i`,
    );
    const run = JSON.parse((await runPython('python_client.py')).stdout) as Run;
    const step = (name: string): Step => {
      const found = run.steps.filter((s) => s.step === name);
      expect(found.length).toBeGreaterThan(0);
      return found[found.length - 1]!;
    };
    const codes = Object.fromEntries(run.steps.filter((s) => s.step !== 'list').map((s) => [s.step, s.code]));
    expect(codes).toEqual({
      health: 'OK',
      create: 'OK',
      create_retry: 'OK',
      get: 'OK',
      update: 'OK',
      update_stale: 'ABORTED',
      get_invalid: 'INVALID_ARGUMENT',
      create_duplicate_email: 'ALREADY_EXISTS',
      delete: 'OK',
      get_deleted: 'NOT_FOUND',
    });
    expect(step('health').response).toEqual({ status: 'SERVING' });

    const created = step('create').response!.profile;
    expect(created).toMatchObject({ id: run.id, role: 'ROLE_COACH', email: run.email, display_name: 'Py Thon', timezone: 'Europe/Berlin', bio: 'from python' });
    expect(created.create_time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(step('create_retry').response!.profile).toEqual(created);
    expect(step('get').response!.profile).toEqual(created);

    expect(run.list_pages).toBeGreaterThanOrEqual(3);
    expect(run.steps.filter((s) => s.step === 'list').every((s) => s.code === 'OK')).toBe(true);
    expect(run.listed_ids).toContain(run.id);
    expect(new Set(run.listed_ids).size).toBe(run.listed_ids.length);
    expect(run.listed_ids).toHaveLength(6);

    const updated = step('update').response!.profile;
    expect(updated).toMatchObject({ id: run.id, display_name: 'Renamed in Python', bio: 'from python' });
    expect(updated.etag).not.toBe(created.etag);
    expect(step('get_invalid').details).toContain('id');

    // What the database saw: one create despite the retry, the update, then the delete.
    expect(await db.query('select id from profiles where email = $1', [run.email])).toEqual([]);
    expect(await db.query('select operation from idempotency_keys where request_id = $1', [run.request_id])).toEqual([{ operation: 'CreateProfile' }]);
    const rpcLines = svc.logs.records().filter((r) => r.correlationId === 'python-get-1');
    expect(rpcLines).toEqual([expect.objectContaining({ method: 'GetProfile', code: 'OK' })]);
  });

  it('a Python grpcio client built from the descriptor set drives the whole flow and decodes error details', async () => {
    const { stdout, stderr } = await runPython('python_client_check.py');
    const out = `${stdout}${stderr}`;
    expect(out).toContain('double booking -> DOUBLE_BOOKED');
    expect(out).toMatch(/invalid id -> \[\('id', /);
    expect(out).toMatch(/after session \d+: (\d+)\/\1 = 100%/);
    expect(out).toContain('python grpcio client: all checks passed');
    // What it wrote is really there: one enrollment, completed, with every session counted.
    const [row] = await db.query<{ status: string; completed_sessions: number }>(
      `select e.status, e.completed_sessions from enrollments e join programs p on p.id = e.program_id where e.status = 'COMPLETED' order by e.create_time desc limit 1`,
    );
    expect(row?.status).toBe('COMPLETED');
    expect(row?.completed_sessions).toBeGreaterThan(0);
  });
});
