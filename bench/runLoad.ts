import { fork } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { gcBetween, type GcUse } from './gcUse';
import type { FromLoadgen, LoadResult, RunSpec, ToLoadgen } from './loadgen/protocol';
import { scrape } from './metrics';
import { cpuSeconds, memoryMb, sampleRss, treeCpu, treeCpuDelta } from './procStats';

/** Resource use of a process during a measurement window. */
export interface ProcessUse {
  readonly cpuSeconds: number;
  /** Highest RSS sampled during the window (MiB). */
  readonly rssPeakMb: number;
  /** Lifetime peak RSS (VmHWM) at the end of the window (MiB). */
  readonly hwmMb: number;
}

/** One JSON line of the report: a target driven by one workload at one concurrency. */
export interface RunRecord {
  readonly kind: 'run';
  readonly target: string;
  readonly workload: string;
  readonly concurrency: number;
  readonly deadlineMs: number;
  readonly result: LoadResult;
  /** The server process (service or bare); absent for raw clients. */
  readonly server?: ProcessUse;
  /** CPU seconds of all PostgreSQL processes during the window (local database only). */
  readonly dbCpuSeconds?: number;
  /** p99 of the service's own pool acquisition wait histogram over the run (warm-up included), when it has metrics. */
  readonly poolAcquireWait?: { readonly p99Ms: number; readonly count: number };
  /** Garbage collections per kind in the measurement window, when the server has metrics. */
  readonly gc?: GcUse;
  /** Which repetition this was (1-based) when the bench ran with --repeat. */
  readonly repeat?: number;
  /** On the median run the report shows: how many runs there were and their spread in RPC/s. */
  readonly spread?: { readonly runs: number; readonly minPerSecond: number; readonly maxPerSecond: number };
  readonly at: string;
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Measures a process (and the database) between two moments. */
export function startWindowMeter(serverPid: number | undefined, postmasterPid: number | undefined) {
  let cpu0 = 0;
  let db0 = new Map<number, number>();
  let rss: ReturnType<typeof sampleRss> | undefined;
  return {
    begin(): void {
      if (serverPid !== undefined) {
        cpu0 = cpuSeconds(serverPid);
        rss = sampleRss(serverPid, 100);
      }
      if (postmasterPid !== undefined) db0 = treeCpu(postmasterPid);
    },
    end(): { server?: ProcessUse; dbCpuSeconds?: number } {
      const out: { server?: ProcessUse; dbCpuSeconds?: number } = {};
      if (serverPid !== undefined) {
        const peak = rss?.stop() ?? 0;
        out.server = { cpuSeconds: round(cpuSeconds(serverPid) - cpu0), rssPeakMb: round(peak, 1), hwmMb: round(memoryMb(serverPid).hwm, 1) };
      }
      if (postmasterPid !== undefined) out.dbCpuSeconds = round(treeCpuDelta(db0, treeCpu(postmasterPid)));
      return out;
    },
  };
}

/**
 * Forks a load-generator process for one run and meters the server process
 * and the database over the load generator's measurement window (and, given
 * the server's metrics port, its garbage collections in that window).
 */
export function runLoad(spec: RunSpec, serverPid: number | undefined, postmasterPid: number | undefined, metricsPort?: number): Promise<RunRecord> {
  return new Promise((resolve, reject) => {
    const child = fork(join(PROJECT_ROOT, 'dist', 'bench', 'loadgen', 'main.js'), [], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const meter = startWindowMeter(serverPid, postmasterPid);
    let window: ReturnType<typeof meter.end> | undefined;
    let metricsAtStart: Promise<string | undefined> | undefined;
    let gc: GcUse | undefined;
    let settled = false;
    const limit = setTimeout(
      () => {
        child.kill('SIGKILL');
        fail(new Error(`load generator for ${spec.target}/${spec.workload}/${spec.concurrency} did not finish in time`));
      },
      spec.warmupMs + spec.durationMs + 60_000,
    );
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      reject(error);
    };
    child.on('message', (message: FromLoadgen) => {
      switch (message.type) {
        case 'measuring':
          meter.begin();
          if (metricsPort !== undefined) metricsAtStart = scrape(metricsPort);
          break;
        case 'measured': {
          window = meter.end();
          const ack: ToLoadgen = { type: 'sampled' };
          // The load generator waits for the ack, so the second scrape still closes the window.
          void Promise.all([metricsAtStart, metricsPort === undefined ? undefined : scrape(metricsPort)]).then(([before, after]) => {
            if (before !== undefined && after !== undefined) gc = gcBetween(before, after);
            child.send(ack);
          });
          break;
        }
        case 'result':
          if (settled) return;
          settled = true;
          clearTimeout(limit);
          resolve({
            kind: 'run',
            target: spec.target,
            workload: spec.workload,
            concurrency: spec.concurrency,
            deadlineMs: spec.deadlineMs,
            result: message.result,
            ...(window ?? meter.end()),
            ...(gc !== undefined && { gc }),
            at: new Date().toISOString(),
          });
          break;
        case 'failed':
          fail(new Error(`load generator failed: ${message.message}`));
          break;
      }
    });
    child.on('exit', (code) => fail(new Error(`load generator exited with code ${code} before reporting`)));
    const start: ToLoadgen = { type: 'run', spec };
    child.send(start);
  });
}
