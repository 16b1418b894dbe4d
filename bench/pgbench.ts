import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWindowMeter, type RunRecord } from './runLoad';
import { summarise, Samples } from './stats';
import { PROFILE_COLUMNS, SESSION_COLUMNS } from './sql';
import { findTool } from './tools';
import { sqlBenchId, type Volume } from './volume';

/** pgbench scripts with the service's SQL; ids are built from a random integer exactly as the seed built them. */
export function pgbenchScripts(v: Volume): Record<string, string> {
  return {
    GetProfile: `\\set n random(0, ${v.profiles - 1})\nselect ${PROFILE_COLUMNS} from profiles where id = ${sqlBenchId('profile', ':n')};\n`,
    ListProfiles: `\\set size 51\nselect ${PROFILE_COLUMNS} from profiles where true and role = 'PARTICIPANT' order by create_time, id limit :size;\n`,
    ListSessions: `\\set c random(0, ${v.coaches - 1})\n\\set size 51\nselect ${SESSION_COLUMNS} from sessions where true and coach_id = ${sqlBenchId('profile', ':c')} and status = 'SCHEDULED' order by scheduled_start, id limit :size;\n`,
  };
}

/** The pgbench binary on PATH, or undefined. */
export const findPgbench = (): string | undefined => findTool('pgbench');

/**
 * Runs pgbench (prepared statements, `concurrency` clients on up to 2
 * threads) for warm-up plus duration, with per-transaction logs, and keeps the
 * transactions that finished inside the measurement window.
 */
export async function runPgbench(options: {
  binary: string;
  databaseUrl: string;
  workload: string;
  script: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  postmasterPid: number | undefined;
}): Promise<RunRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'coaching-pgbench-'));
  try {
    const scriptFile = join(dir, 'script.sql');
    writeFileSync(scriptFile, options.script);
    const seconds = Math.max(1, Math.ceil((options.warmupMs + options.durationMs) / 1000));
    const args = [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(options.concurrency),
      '-j',
      String(Math.min(2, options.concurrency)),
      '-T',
      String(seconds),
      '-f',
      scriptFile,
      '-l',
      `--log-prefix=${join(dir, 'tx')}`,
      options.databaseUrl,
    ];
    const started = Date.now();
    const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const meter = startWindowMeter(child.pid, options.postmasterPid);
    // The window is the last `durationMs` of the run (pgbench -T takes whole seconds).
    const windowStartMs = started + seconds * 1000 - options.durationMs;
    const windowEndMs = started + seconds * 1000;
    const begin = setTimeout(() => meter.begin(), windowStartMs - started);
    let window: ReturnType<typeof meter.end> | undefined;
    const end = setTimeout(() => (window = meter.end()), windowEndMs - started);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(begin);
    clearTimeout(end);
    window ??= meter.end();
    if (code !== 0) throw new Error(`pgbench exited with ${code}:\n${output}`);

    const latencies = new Samples();
    let failed = 0;
    for (const file of readdirSync(dir).filter((name) => name.startsWith('tx'))) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        // client_id transaction_no time script_no time_epoch time_us (time: latency in µs, or "failed"/"skipped").
        const fields = line.split(' ');
        if (fields.length < 6) continue;
        const finishedMs = Number(fields[4]) * 1000 + Number(fields[5]) / 1000;
        if (finishedMs < windowStartMs || finishedMs >= windowEndMs) continue;
        const latencyUs = Number(fields[2]);
        if (Number.isFinite(latencyUs)) latencies.push(latencyUs / 1000);
        else failed++;
      }
    }
    const windowSeconds = options.durationMs / 1000;
    const calls = latencies.length + failed;
    return {
      kind: 'run',
      target: 'pgbench',
      workload: options.workload,
      concurrency: options.concurrency,
      deadlineMs: 0,
      result: {
        calls,
        ok: latencies.length,
        errors: failed > 0 ? { failed } : {},
        seconds: windowSeconds,
        perSecond: Math.round((calls / windowSeconds) * 10) / 10,
        latencyMs: summarise(latencies.values()),
        consumed: { completions: 0, slots: 0 },
        loadgenCpuSeconds: window.server?.cpuSeconds ?? 0,
      },
      ...(window.dbCpuSeconds !== undefined && { dbCpuSeconds: window.dbCpuSeconds }),
      at: new Date().toISOString(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
