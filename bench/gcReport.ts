import type { TracedGc } from './gcUse';
import type { RunRecord } from './runLoad';

/** The target name of a `--flag-sets` variant of the service. */
export const flagSetTarget = (flags: readonly string[]): string => `service flags=${flags.length === 0 ? 'none' : flags.join(' ')}`;

const fmt = (value: number | undefined, digits: number): string => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));

/**
 * GC per 1 000 calls and CPU per call of each workload, target and in-flight
 * count, over every repetition together (sums of the windows, not a median
 * run): counts and GC time per call barely move with the machine's load, so
 * they are what flag sets are compared on. The CPU column gives the spread of
 * the repetitions too. GC ms is main-thread time, part of the CPU column.
 */
export function gcTable(records: readonly RunRecord[]): string {
  const kinds = ['minor', 'major', 'incremental'];
  const lines = [
    `| workload | target | in-flight | runs | calls | CPU ms/call (runs min–max) | ${kinds.map((k) => `${k} GCs | ${k} ms`).join(' | ')} | GC ms (all kinds) | GC share of CPU | peak RSS MB |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ${kinds.map(() => '---: | ---:').join(' | ')} | ---: | ---: | ---: |`,
  ];
  const groups = new Map<string, RunRecord[]>();
  for (const r of records.filter((r) => r.gc !== undefined && r.server !== undefined)) {
    const key = `${r.workload}\u0000${r.target}\u0000${r.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const calls = runs.reduce((sum, r) => sum + r.result.calls, 0);
    if (calls === 0) continue;
    const perThousand = (value: number): number => (value * 1000) / calls;
    const cpuMs = runs.reduce((sum, r) => sum + r.server!.cpuSeconds * 1000, 0);
    const perRun = runs.filter((r) => r.result.calls > 0).map((r) => (r.server!.cpuSeconds * 1000) / r.result.calls);
    const of = (kind: string, field: 'count' | 'ms'): number => runs.reduce((sum, r) => sum + (r.gc![kind]?.[field] ?? 0), 0);
    const gcMs = runs.reduce((sum, r) => sum + Object.values(r.gc!).reduce((s, k) => s + k.ms, 0), 0);
    const cells = kinds.map((kind) => `${fmt(perThousand(of(kind, 'count')), 1)} | ${fmt(perThousand(of(kind, 'ms')), 1)}`);
    const rss = Math.max(...runs.map((r) => r.server!.rssPeakMb));
    lines.push(
      `| ${first.workload} | ${first.target} | ${first.concurrency} | ${runs.length} | ${calls} | ${fmt(cpuMs / calls, 3)} (${fmt(Math.min(...perRun), 3)}–${fmt(Math.max(...perRun), 3)}) | ${cells.join(' | ')} | ${fmt(perThousand(gcMs), 1)} | ${fmt((gcMs / cpuMs) * 100, 1)} % | ${fmt(rss, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** A process's `--trace-gc` summary: V8's kinds and reasons, counts, pause and incremental-marking totals. */
export function traceGcTable(summary: readonly TracedGc[]): string {
  const lines = ['| V8 collection | reason | count | pause ms | incremental marking ms |', '| --- | --- | ---: | ---: | ---: |'];
  for (const gc of summary) lines.push(`| ${gc.kind} | ${gc.reason} | ${gc.count} | ${fmt(gc.pauseMs, 1)} | ${fmt(gc.incrementalMs, 1)} |`);
  return lines.join('\n');
}
