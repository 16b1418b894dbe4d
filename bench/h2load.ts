/**
 * h2load (Debian `nghttp2-client`) as a second, cheap client: a C load
 * generator that sends one pre-encoded gRPC request over HTTP/2 (h2c prior
 * knowledge) with `-m` streams in flight on one connection, so the service's
 * own ceiling shows without the grpc-js client's CPU beside it.
 *
 * h2load judges a response by its HTTP status only, and a gRPC error is an
 * HTTP 200 with `grpc-status` in the trailers. So every run also counts the
 * server's own outcomes by gRPC status before and after (the service's
 * `grpc_server_handled_total`, the bare server's `bench.v1.Baseline/Outcomes`)
 * and reports any non-OK outcome, or any 200 the server did not count as OK,
 * as an error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials } from '@grpc/grpc-js';
import { GetProfileRequest, ListSessionsRequest } from '../src/generated/coaching/v1/coaching_service';
import { SessionStatus } from '../src/generated/coaching/v1/session';
import { OUTCOMES_METHOD_PATH } from './baseline/emptyService';
import { scrape } from './metrics';
import { cpuSeconds } from './procStats';
import { startWindowMeter, type RunRecord } from './runLoad';
import type { ServerProcess } from './servers';
import { Samples, summarise } from './stats';
import { findTool } from './tools';
import { benchId } from './volume';

/** The h2load targets: the same RPCs on the service and on the bare server. */
export const H2LOAD_TARGETS = ['service h2load', 'bare h2load'] as const;
export type H2loadTarget = (typeof H2LOAD_TARGETS)[number];

const SERVICE = 'coaching.v1.CoachingService';

/** A gRPC message frame: compressed flag 0, 4-byte big-endian length, the protobuf bytes. */
function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * The request h2load repeats for each workload it supports. One body for every
 * call (h2load has no per-call data), so each call reads the same row(s): the
 * first seeded profile, the first coach's first page.
 */
export const H2LOAD_REQUESTS: Record<string, { readonly method: string; readonly body: () => Buffer }> = {
  GetProfile: { method: 'GetProfile', body: () => grpcFrame(GetProfileRequest.encode({ id: benchId('profile', 0) }).finish()) },
  ListSessions: {
    method: 'ListSessions',
    body: () =>
      grpcFrame(
        ListSessionsRequest.encode({
          pageSize: 50,
          pageToken: '',
          programId: '',
          coachId: benchId('profile', 0),
          participantId: '',
          status: SessionStatus.SESSION_STATUS_SCHEDULED,
          scheduledStartFrom: undefined,
          scheduledStartUntil: undefined,
        }).finish(),
      ),
  },
};

/** The h2load binary (H2LOAD, else on PATH), or undefined when it is not installed. */
export const findH2load = (): string | undefined => findTool(process.env.H2LOAD || 'h2load');

/** Outcomes by gRPC status name of one method so far, as the server counted them. */
export async function grpcOutcomes(server: ServerProcess, method: string): Promise<Record<string, number>> {
  if (server.metricsPort !== undefined) {
    const text = (await scrape(server.metricsPort)) ?? '';
    const outcomes: Record<string, number> = {};
    const pattern = /^grpc_server_handled_total\{(.*)\} (\S+)$/;
    for (const line of text.split('\n')) {
      const match = pattern.exec(line);
      if (match === null) continue;
      const labels = match[1]!;
      if (!labels.includes(`grpc_service="${SERVICE}"`) || !labels.includes(`grpc_method="${method}"`)) continue;
      const code = /grpc_code="([^"]+)"/.exec(labels)?.[1] ?? '?';
      outcomes[code] = (outcomes[code] ?? 0) + Number(match[2]);
    }
    return outcomes;
  }
  const client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
  const identity = (value: Buffer): Buffer => value;
  try {
    const response = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(OUTCOMES_METHOD_PATH, identity, identity, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (error, value) =>
        error || value === undefined ? reject(error ?? new Error('no outcomes')) : resolve(value),
      ),
    );
    const all = JSON.parse(response.toString('utf8')) as Record<string, Record<string, number>>;
    return all[method] ?? {};
  } finally {
    client.close();
  }
}

const deltaOf = (before: Record<string, number>, after: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([code, n]) => [code, n - (before[code] ?? 0)]));

/** `requests: 40001 total, 40017 started, 40001 done, 40001 succeeded, 0 failed, 0 errored, 0 timeout` */
function requestCounts(output: string): Record<string, number> {
  const line = /^requests: (.*)$/m.exec(output)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(\d+) (\w+)/g)].map((m) => [m[2]!, Number(m[1])]));
}

/**
 * One h2load run: `-c 1 -m <concurrency>` (one connection, like the grpc-js
 * load generator's one channel), `--warm-up-time` then `-D` measured seconds,
 * a per-request log for the latency percentiles, the server's and the
 * database's CPU metered between h2load's own "main duration started/over" lines.
 */
export async function runH2load(options: {
  binary: string;
  target: H2loadTarget;
  workload: string;
  server: ServerProcess;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  deadlineMs: number;
  postmasterPid: number | undefined;
}): Promise<RunRecord> {
  const request = H2LOAD_REQUESTS[options.workload];
  if (request === undefined) throw new Error(`h2load has no request for ${options.workload}`);
  const dir = mkdtempSync(join(tmpdir(), 'coaching-h2load-'));
  try {
    const bodyFile = join(dir, 'request.bin');
    const logFile = join(dir, 'requests.tsv');
    writeFileSync(bodyFile, request.body());
    const seconds = (ms: number): string => `${Math.max(1, Math.round(ms))}ms`;
    const args = [
      '-c',
      '1',
      '-t',
      '1',
      '-m',
      String(options.concurrency),
      `--warm-up-time=${seconds(options.warmupMs)}`,
      '-D',
      seconds(options.durationMs),
      '-d',
      bodyFile,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      ...(options.deadlineMs > 0 ? ['-H', `grpc-timeout: ${Math.round(options.deadlineMs)}m`] : []),
      `--log-file=${logFile}`,
      `http://127.0.0.1:${options.server.port}/${SERVICE}/${request.method}`,
    ];
    const before = await grpcOutcomes(options.server, request.method);
    const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const meter = startWindowMeter(options.server.pid, options.postmasterPid);
    let window: ReturnType<typeof meter.end> | undefined;
    let clientCpu0 = 0;
    let clientCpu = 0;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      if (text.includes('Main benchmark duration is started')) {
        meter.begin();
        clientCpu0 = cpuSeconds(child.pid!);
      }
      if (text.includes('Main benchmark duration is over') && window === undefined) {
        window = meter.end();
        clientCpu = cpuSeconds(child.pid!) - clientCpu0;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    window ??= meter.end();
    if (code !== 0) throw new Error(`h2load exited with ${code}:\n${output}`);
    const after = await grpcOutcomes(options.server, request.method);

    // start (µs since epoch) TAB HTTP status TAB µs to the end of the response; main duration only.
    const latencies = new Samples();
    const errors: Record<string, number> = {};
    let http200 = 0;
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      const [, status, micros] = line.split('\t');
      // Status 0: a stream still open when the window closed (h2load then stops the client); h2load's own counts say whether anything failed.
      if (micros === undefined || status === '0') continue;
      latencies.push(Number(micros) / 1000);
      if (status === '200') http200++;
      else errors[`http:${status}`] = (errors[`http:${status}`] ?? 0) + 1;
    }
    const counts = requestCounts(output);
    for (const kind of ['failed', 'errored', 'timeout'] as const) {
      const n = (counts[kind] ?? 0) - (kind === 'failed' ? Object.values(errors).reduce((a, b) => a + b, 0) : 0);
      if (n > 0) errors[`h2load:${kind}`] = n;
    }
    // The server's counts span the warm-up too: any non-OK there is an error of this run; and every 200 must be an OK.
    const outcomes = deltaOf(before, after);
    for (const [status, n] of Object.entries(outcomes)) if (status !== 'OK' && n > 0) errors[status] = n;
    const serverOk = outcomes.OK ?? 0;
    if (serverOk < http200) errors['unverified (200 not counted OK by the server)'] = http200 - serverOk;
    const failures = Object.values(errors).reduce((a, b) => a + b, 0);
    const calls = latencies.length;
    const windowSeconds = options.durationMs / 1000;
    return {
      kind: 'run',
      target: options.target,
      workload: options.workload,
      concurrency: options.concurrency,
      deadlineMs: options.deadlineMs,
      result: {
        calls,
        ok: Math.max(0, calls - failures),
        errors,
        seconds: windowSeconds,
        perSecond: Math.round((calls / windowSeconds) * 10) / 10,
        latencyMs: summarise(latencies.values()),
        consumed: { completions: 0, slots: 0 },
        loadgenCpuSeconds: Math.round(clientCpu * 100) / 100,
        ...(failures > 0 && { errorSample: `server outcomes ${JSON.stringify(outcomes)}; h2load ${JSON.stringify(counts)}` }),
      },
      ...window,
      at: new Date().toISOString(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
