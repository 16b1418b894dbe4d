import type { BenchDatabase } from './database';
import type { LoadResult, RunSpec } from './loadgen/protocol';
import type { BenchOptions } from './options';
import { memoryMb } from './procStats';
import { runLoad } from './runLoad';
import type { ServerProcess } from './servers';
import { scheduledSessionCount, type Volume } from './volume';
import { WORKLOADS } from './workloads';

/** The soak's JSON line: RSS of the service across a long steady load. */
export interface SoakRecord {
  readonly kind: 'soak';
  readonly workload: string;
  readonly concurrency: number;
  readonly minutes: number;
  /** Mean RSS over the first and the last tenth of the measured window (MiB). */
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssPeakMb: number;
  readonly growthPercent: number;
  /** RSS once a minute (MiB), for the curve. */
  readonly rssPerMinuteMb: readonly number[];
  readonly result: LoadResult;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const round = (value: number): number => Math.round(value * 10) / 10;

/**
 * Mixed load (GetProfile when Mixed is not available) at 16 in flight for the
 * soak duration after a 30 s warm-up, sampling the service's RSS every second.
 * Growth compares the first and last tenth of the window, so one GC cycle
 * does not decide it.
 */
export async function runSoak(deps: {
  options: BenchOptions;
  volume: Volume;
  db: BenchDatabase;
  service: ServerProcess;
  log: (message: string) => void;
}): Promise<SoakRecord> {
  const { options, volume, db, service } = deps;
  const workload = WORKLOADS.some((w) => w.name === 'Mixed') ? 'Mixed' : 'GetProfile';
  const warmupMs = options.mode === 'soak' && options.soakMs >= 60_000 ? 30_000 : options.warmupMs;
  const spec: RunSpec = {
    target: 'service',
    workload,
    concurrency: 16,
    warmupMs,
    durationMs: options.soakMs,
    deadlineMs: options.deadlineMs,
    grpcPort: service.port,
    databaseUrl: db.url,
    poolSize: options.poolSize,
    volume,
    completeFrom: 0,
    completeTo: scheduledSessionCount(volume),
    slotFrom: 0,
    seed: 0x50a1,
  };
  deps.log(`soak: ${workload} @16 for ${options.soakMs / 60_000} min after ${warmupMs / 1000} s warm-up`);
  const samples: { at: number; rss: number }[] = [];
  const started = Date.now();
  const timer = setInterval(() => samples.push({ at: Date.now() - started, rss: memoryMb(service.pid).rss }), 1000);
  let record;
  try {
    record = await runLoad(spec, service.pid, db.postmasterPid);
  } finally {
    clearInterval(timer);
  }
  const window = samples.filter((s) => s.at >= warmupMs && s.at <= warmupMs + options.soakMs).map((s) => s.rss);
  const tenth = Math.max(1, Math.floor(window.length / 10));
  const first = mean(window.slice(0, tenth));
  const last = mean(window.slice(-tenth));
  const perMinute = samples
    .filter((s) => s.at >= warmupMs && Math.floor((s.at - warmupMs) / 60_000) !== Math.floor((s.at - warmupMs - 1000) / 60_000))
    .map((s) => round(s.rss));
  return {
    kind: 'soak',
    workload,
    concurrency: 16,
    minutes: options.soakMs / 60_000,
    rssStartMb: round(first),
    rssEndMb: round(last),
    rssPeakMb: round(Math.max(0, ...window)),
    growthPercent: first === 0 ? 0 : round(((last - first) / first) * 100),
    rssPerMinuteMb: perMinute,
    result: record.result,
  };
}
