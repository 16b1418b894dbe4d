import { scrape } from './metrics';
import { memoryMb } from './procStats';

/** One reading of a process's memory from the outside (MiB): /proc RSS plus V8's view from the service's /metrics. */
export interface MemorySample {
  /** Milliseconds since sampling started. */
  readonly at: number;
  readonly rss: number;
  /** V8 heap used and committed (prom-client's `nodejs_heap_size_*_bytes`, from `process.memoryUsage()`). */
  readonly heapUsed?: number;
  readonly heapTotal?: number;
  /** Memory of C++ objects bound to JS (Buffers, ArrayBuffers): `nodejs_external_memory_bytes`. */
  readonly external?: number;
  /** Used bytes of the old and the young ("new") heap spaces (`nodejs_heap_space_size_used_bytes`). */
  readonly oldUsed?: number;
  readonly newUsed?: number;
  /** Committed size of the young generation: what `--max-semi-space-size` bounds. */
  readonly newTotal?: number;
  /** Seconds spent in garbage collection since the process started (all kinds), and major collections so far. */
  readonly gcSeconds?: number;
  readonly majorGcs?: number;
}

const MIB = 1024 * 1024;

/** The value of an unlabelled (or exactly labelled) sample in exposition text, in MiB. */
function gaugeMb(text: string, series: string): number | undefined {
  const start = text.indexOf(`\n${series} `);
  if (start === -1) return undefined;
  const value = Number(text.slice(start + series.length + 2, text.indexOf('\n', start + 1)).split(' ')[0]);
  return Number.isFinite(value) ? value / MIB : undefined;
}

/** The sum over label sets of a series (e.g. `nodejs_gc_duration_seconds_sum`, optionally only those with `label`). */
function seriesSum(text: string, name: string, label = ''): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(label)) continue;
    const value = Number(line.slice(line.lastIndexOf('} ') + 2).split(' ')[0]);
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

/** The memory gauges and GC totals of one /metrics text (prom-client's default metrics); absent ones stay undefined. */
export function memoryFromMetrics(text: string): Omit<MemorySample, 'at' | 'rss'> {
  const fields = {
    heapUsed: gaugeMb(text, 'nodejs_heap_size_used_bytes'),
    heapTotal: gaugeMb(text, 'nodejs_heap_size_total_bytes'),
    external: gaugeMb(text, 'nodejs_external_memory_bytes'),
    oldUsed: gaugeMb(text, 'nodejs_heap_space_size_used_bytes{space="old"}'),
    newUsed: gaugeMb(text, 'nodejs_heap_space_size_used_bytes{space="new"}'),
    newTotal: gaugeMb(text, 'nodejs_heap_space_size_total_bytes{space="new"}'),
    gcSeconds: seriesSum(text, 'nodejs_gc_duration_seconds_sum'),
    majorGcs: seriesSum(text, 'nodejs_gc_duration_seconds_count', 'kind="major"'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/**
 * Samples a server's memory every `everyMs`: RSS from /proc, and the V8 heap
 * from its metrics endpoint when it has one (a scrape that fails or is slow
 * leaves the heap fields out of that sample rather than delaying the next).
 */
export function sampleMemory(pid: number, metricsPort: number | undefined, everyMs: number): { stop(): MemorySample[] } {
  const samples: MemorySample[] = [];
  const started = Date.now();
  let scraping = false;
  let stopped = false;
  const take = (): void => {
    const at = Date.now() - started;
    const { rss } = memoryMb(pid);
    if (metricsPort === undefined || scraping) {
      samples.push({ at, rss });
      return;
    }
    scraping = true;
    void scrape(metricsPort).then((text) => {
      scraping = false;
      // A scrape that answers after stop() belongs to no window: the caller already has the samples.
      if (!stopped) samples.push({ at, rss, ...(text === undefined ? {} : memoryFromMetrics(text)) });
    });
  };
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      stopped = true;
      return [...samples].sort((a, b) => a.at - b.at);
    },
  };
}

/**
 * The floor of a series per window: the lowest value in each `windowMs` slice.
 * For heap used, the floor is what survives collections (young-generation
 * garbage is gone at its low points), so a rising floor means retained memory,
 * while a rising peak alone means a busier young generation.
 */
export function floors(samples: readonly MemorySample[], pick: (s: MemorySample) => number | undefined, windowMs: number): { at: number; value: number }[] {
  const byWindow = new Map<number, number>();
  for (const sample of samples) {
    const value = pick(sample);
    if (value === undefined) continue;
    const window = Math.floor(sample.at / windowMs);
    byWindow.set(window, Math.min(value, byWindow.get(window) ?? Number.POSITIVE_INFINITY));
  }
  return [...byWindow.entries()].sort(([a], [b]) => a - b).map(([window, value]) => ({ at: window * windowMs, value }));
}

/** Least-squares slope of value over time, per minute. */
export function slopePerMinute(points: readonly { at: number; value: number }[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.at, 0) / n;
  const my = points.reduce((a, p) => a + p.value, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.at - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.at - mx) * (p.value - my), 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 60_000;
}
