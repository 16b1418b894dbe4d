/**
 * Garbage collection of a server process, two ways. Counts and pause totals
 * per call hardly depend on how busy the machine is (unlike RPC/s), so flag
 * sets compare on them even on a shared machine.
 *
 * - Per measurement window: two scrapes of the service's /metrics, whose
 *   `nodejs_gc_duration_seconds` histogram (prom-client, from Node's `gc`
 *   performance entries) is labelled with the kind: minor (scavenge), major
 *   (mark-compact), incremental (marking steps), weakcb.
 * - Per process lifetime, by V8's own names and reasons: the `--trace-gc`
 *   lines in the process's log.
 */

/** Collections of each kind and their total duration (ms) in a window. */
export type GcUse = Readonly<Record<string, { readonly count: number; readonly ms: number }>>;

const SERIES = /^nodejs_gc_duration_seconds_(sum|count)\{([^}]*)\} (\S+)/gm;

function totals(text: string): Map<string, { count: number; seconds: number }> {
  const byKind = new Map<string, { count: number; seconds: number }>();
  for (const [, field, labels, value] of text.matchAll(SERIES)) {
    const kind = /(?:^|,)kind="([^"]+)"/.exec(labels!)?.[1] ?? 'all';
    const entry = byKind.get(kind) ?? { count: 0, seconds: 0 };
    if (field === 'sum') entry.seconds += Number(value);
    else entry.count += Number(value);
    byKind.set(kind, entry);
  }
  return byKind;
}

/** What the process collected between two /metrics texts, per kind (kinds with no collection left out). */
export function gcBetween(before: string, after: string): GcUse {
  const start = totals(before);
  const use: Record<string, { count: number; ms: number }> = {};
  for (const [kind, end] of totals(after)) {
    const count = end.count - (start.get(kind)?.count ?? 0);
    const ms = (end.seconds - (start.get(kind)?.seconds ?? 0)) * 1000;
    if (count > 0) use[kind] = { count, ms: Math.round(ms * 100) / 100 };
  }
  return use;
}

/** One V8 collection kind (and why it ran) over a process's life, from `--trace-gc`. */
export interface TracedGc {
  /** V8's name: Scavenge, Mark-Compact, Mark-Compact (reduce), Minor Mark-Sweep… */
  readonly kind: string;
  /** The reason V8 printed (allocation failure, finalize incremental marking via task…). */
  readonly reason: string;
  readonly count: number;
  /** Sum of the stop-the-world pauses. */
  readonly pauseMs: number;
  /** Sum of the incremental marking steps before each atomic pause (mark-compact only: `(+ X ms in N steps …)`). */
  readonly incrementalMs: number;
}

// `[pid:0x…]   12345 ms: Scavenge 20.1 (25.3) -> 12.2 (25.3) MB, pooled: 0 MB, 1.23 / 0.00 ms  (average mu = 0.998, current mu = 0.997) allocation failure;`
// Mark-compact lines add `(+ 1.3 ms in 1 steps since start of marking, …)` before the mu figures. The pause is the first
// of the two times (the second is time in embedder callbacks).
const TRACE_LINE =
  /\[\d+:0x[0-9a-f]+\]\s+\d+ ms: ([A-Za-z -]+?(?: \([A-Za-z -]+\))?) [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms\s*(?:\(\+ ([\d.]+) ms in \d+ steps[^)]*\)\s*)?\(average mu = [\d.]+, current mu = [\d.]+\) ([^;\n]+)/g;

/** The `--trace-gc` lines of a log (other output may sit between them), summed by kind and reason, most time first. */
export function traceGcSummary(log: string): TracedGc[] {
  const byKey = new Map<string, { kind: string; reason: string; count: number; pauseMs: number; incrementalMs: number }>();
  for (const [, kind, pause, incremental, reason] of log.matchAll(TRACE_LINE)) {
    const key = `${kind}\u0000${reason!.trim()}`;
    const entry = byKey.get(key) ?? { kind: kind!, reason: reason!.trim(), count: 0, pauseMs: 0, incrementalMs: 0 };
    entry.count += 1;
    entry.pauseMs += Number(pause);
    entry.incrementalMs += Number(incremental ?? 0);
    byKey.set(key, entry);
  }
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return [...byKey.values()]
    .map((e) => ({ ...e, pauseMs: round(e.pauseMs), incrementalMs: round(e.incrementalMs) }))
    .sort((a, b) => b.pauseMs + b.incrementalMs - (a.pauseMs + a.incrementalMs));
}
