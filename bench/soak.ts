import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchDatabase } from './database';
import type { LoadResult, RunSpec } from './loadgen/protocol';
import { floors, sampleMemory, slopePerMinute, type MemorySample } from './memorySamples';
import type { BenchOptions } from './options';
import { runLoad } from './runLoad';
import type { ServerProcess } from './servers';
import { scheduledSessionCount, type Volume } from './volume';
import { WORKLOADS } from './workloads';

/** Start, end and growth of one memory series over the soak window (MiB). */
export interface Growth {
  /** Mean over the first and the last tenth of the measured window. */
  readonly startMb: number;
  readonly endMb: number;
  readonly growthPercent: number;
  /** Least-squares slope over the whole window. */
  readonly slopeMbPerMinute: number;
}

/** The soak's JSON line: memory of the service across a long steady load. */
export interface SoakRecord {
  readonly kind: 'soak';
  readonly workload: string;
  readonly concurrency: number;
  readonly minutes: number;
  /** Node flags the service ran with. */
  readonly nodeFlags: readonly string[];
  /** Mean RSS over the first and the last tenth of the measured window (MiB). */
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssPeakMb: number;
  readonly growthPercent: number;
  /** RSS once a minute (MiB), for the curve. */
  readonly rssPerMinuteMb: readonly number[];
  /**
   * V8's side, from the service's /metrics once a second. The floors are the
   * lowest heap used (and old space used) in each 10 s window: what survives
   * collections. A rising floor is retained memory (a leak, or a cache filling);
   * RSS that rises while the floor stays flat is the heap's committed size
   * or the allocator, not live objects.
   */
  readonly heap?: {
    readonly samples: number;
    readonly usedFloor: Growth;
    readonly oldFloor: Growth;
    readonly external: Growth;
    readonly heapTotalPeakMb: number;
    readonly newSpaceTotalPeakMb: number;
    readonly externalPeakMb: number;
    /** Heap-used floor once a minute (lowest of the minute), for the curve. */
    readonly usedFloorPerMinuteMb: readonly number[];
    /** Share of the window's wall time spent in GC (all kinds, on the main thread), and major collections in it. */
    readonly gcPercent?: number;
    readonly majorGcs?: number;
  };
  readonly result: LoadResult;
}

const FLOOR_WINDOW_MS = 10_000;

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const round = (value: number): number => Math.round(value * 10) / 10;

/** Growth of a time series, comparing means of its first and last tenth. */
function growth(points: readonly { at: number; value: number }[]): Growth {
  const tenth = Math.max(1, Math.floor(points.length / 10));
  const first = mean(points.slice(0, tenth).map((p) => p.value));
  const last = mean(points.slice(-tenth).map((p) => p.value));
  return {
    startMb: round(first),
    endMb: round(last),
    growthPercent: first === 0 ? 0 : round(((last - first) / first) * 100),
    slopeMbPerMinute: Math.round(slopePerMinute(points) * 100) / 100,
  };
}

function gcShare(samples: readonly MemorySample[]): { gcPercent?: number; majorGcs?: number } {
  const gc = samples.filter((s) => s.gcSeconds !== undefined);
  const [first, last] = [gc[0], gc.at(-1)];
  if (first === undefined || last === undefined || last.at === first.at) return {};
  return {
    gcPercent: round(((last.gcSeconds! - first.gcSeconds!) * 100_000) / (last.at - first.at)),
    majorGcs: (last.majorGcs ?? 0) - (first.majorGcs ?? 0),
  };
}

function heapSummary(window: readonly MemorySample[]): SoakRecord['heap'] {
  const withHeap = window.filter((s) => s.heapUsed !== undefined);
  if (withHeap.length === 0) return undefined;
  const max = (pick: (s: MemorySample) => number | undefined): number => round(Math.max(0, ...withHeap.map((s) => pick(s) ?? 0)));
  const series = (pick: (s: MemorySample) => number | undefined) => withHeap.flatMap((s) => (pick(s) === undefined ? [] : [{ at: s.at, value: pick(s)! }]));
  return {
    samples: withHeap.length,
    usedFloor: growth(floors(withHeap, (s) => s.heapUsed, FLOOR_WINDOW_MS)),
    oldFloor: growth(floors(withHeap, (s) => s.oldUsed, FLOOR_WINDOW_MS)),
    external: growth(series((s) => s.external)),
    heapTotalPeakMb: max((s) => s.heapTotal),
    newSpaceTotalPeakMb: max((s) => s.newTotal),
    externalPeakMb: max((s) => s.external),
    usedFloorPerMinuteMb: floors(withHeap, (s) => s.heapUsed, 60_000).map((f) => round(f.value)),
    ...gcShare(withHeap),
  };
}

/**
 * Mixed load (GetProfile when Mixed is not available) at 16 in flight for the
 * soak duration after a 30 s warm-up, sampling the service's RSS and (from its
 * metrics endpoint) its V8 heap every second. Every sample goes to
 * `soak-memory.jsonl` in the output folder. Growth compares the first and last
 * tenth of the window, so one GC cycle does not decide it.
 */
export async function runSoak(deps: {
  options: BenchOptions;
  volume: Volume;
  db: BenchDatabase;
  service: ServerProcess;
  nodeFlags: readonly string[];
  outDir: string;
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
  const sampler = sampleMemory(service.pid, service.metricsPort, 1000);
  let record;
  let samples: MemorySample[] = [];
  try {
    record = await runLoad(spec, service.pid, db.postmasterPid);
  } finally {
    samples = sampler.stop();
  }
  const memoryFile = join(deps.outDir, 'soak-memory.jsonl');
  appendFileSync(memoryFile, samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
  const inWindow = samples.filter((s) => s.at >= warmupMs && s.at <= warmupMs + options.soakMs).map((s) => ({ ...s, at: s.at - warmupMs }));
  const rss = growth(inWindow.map((s) => ({ at: s.at, value: s.rss })));
  const perMinute = inWindow.filter((s) => Math.floor(s.at / 60_000) !== Math.floor((s.at - 1000) / 60_000)).map((s) => round(s.rss));
  const heap = heapSummary(inWindow);
  return {
    kind: 'soak',
    workload,
    concurrency: 16,
    minutes: options.soakMs / 60_000,
    nodeFlags: deps.nodeFlags,
    rssStartMb: rss.startMb,
    rssEndMb: rss.endMb,
    rssPeakMb: round(Math.max(0, ...inWindow.map((s) => s.rss))),
    growthPercent: rss.growthPercent,
    rssPerMinuteMb: perMinute,
    ...(heap !== undefined && { heap }),
    result: record.result,
  };
}

/** The soak's lines for the terminal and results.md. */
export function soakSummary(soak: SoakRecord): string {
  const lines = [
    `RSS over ${soak.minutes.toFixed(1)} min of ${soak.workload} @${soak.concurrency} (node ${soak.nodeFlags.join(' ') || 'without flags'}): ` +
      `${soak.rssStartMb} MB → ${soak.rssEndMb} MB (${soak.growthPercent} %), peak ${soak.rssPeakMb} MB`,
  ];
  const heap = soak.heap;
  if (heap !== undefined) {
    const line = (name: string, g: Growth): string =>
      `${name}: ${g.startMb} MB → ${g.endMb} MB (${g.growthPercent} %, ${g.slopeMbPerMinute >= 0 ? '+' : ''}${g.slopeMbPerMinute} MB/min)`;
    lines.push(
      line('heap used, floor per 10 s', heap.usedFloor),
      line('old space used, floor per 10 s', heap.oldFloor),
      line('external (Buffers)', heap.external),
      `peaks: heap total ${heap.heapTotalPeakMb} MB, young generation ${heap.newSpaceTotalPeakMb} MB, external ${heap.externalPeakMb} MB (${heap.samples} samples)`,
      `GC: ${heap.gcPercent ?? '–'} % of wall time, ${heap.majorGcs ?? '–'} major collections`,
    );
  }
  return lines.join('\n');
}
