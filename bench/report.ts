import type { RunRecord } from './runLoad';

const fmt = (value: number | undefined, digits = 1): string => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

function errorsText(record: RunRecord): string {
  const entries = Object.entries(record.result.errors);
  return entries.length === 0 ? '0' : entries.map(([code, n]) => `${code} ${n}`).join(', ');
}

/** Server CPU ms per call in the window (undefined without a server process). */
const cpuPerCall = (r: RunRecord | undefined): number | undefined =>
  r?.server === undefined || r.result.calls === 0 ? undefined : (r.server.cpuSeconds * 1000) / r.result.calls;

const keyOf = (r: RunRecord): string => `${r.workload}\u0000${r.target}\u0000${r.concurrency}`;

/**
 * One record per workload, target and in-flight count: with repetitions, the
 * median run by RPC/s (the lower of the middle two for an even count), carrying
 * the spread of all of them; the order is that of the first runs.
 */
export function medianRuns(records: readonly RunRecord[]): RunRecord[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) groups.set(keyOf(r), [...(groups.get(keyOf(r)) ?? []), r]);
  return [...groups.values()].map((runs) => {
    if (runs.length === 1) return runs[0]!;
    const sorted = [...runs].sort((a, b) => a.result.perSecond - b.result.perSecond);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return { ...median, spread: { runs: runs.length, minPerSecond: sorted[0]!.result.perSecond, maxPerSecond: sorted.at(-1)!.result.perSecond } };
  });
}

/** Every run as a markdown table row. */
export function resultsTable(records: readonly RunRecord[]): string {
  const lines = [
    '| workload | target | in-flight | RPC/s | runs: min–max RPC/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU s | CPU ms/call | peak RSS MB | DB CPU s | loadgen CPU s | pool wait p99 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of records) {
    const l = r.result.latencyMs;
    const perCall = cpuPerCall(r);
    const spread = r.spread === undefined ? '1' : `${r.spread.runs}: ${fmt(r.spread.minPerSecond, 0)}–${fmt(r.spread.maxPerSecond, 0)}`;
    lines.push(
      `| ${r.workload} | ${r.target} | ${r.concurrency} | ${fmt(r.result.perSecond, 0)} | ${spread} | ${fmt(l.p50, 2)} | ${fmt(l.p95, 2)} | ${fmt(l.p99, 2)} | ${fmt(l.max, 1)} | ${errorsText(r)} | ${fmt(r.server?.cpuSeconds, 2)} | ${fmt(perCall, 3)} | ${fmt(r.server?.rssPeakMb, 0)} | ${fmt(r.dbCpuSeconds, 2)} | ${fmt(r.result.loadgenCpuSeconds, 2)} | ${fmt(r.poolAcquireWait?.p99Ms, 2)} |`,
    );
  }
  return lines.join('\n');
}

const find = (records: readonly RunRecord[], workload: string, target: string, concurrency: number): RunRecord | undefined =>
  records.find((r) => r.workload === workload && r.target === target && r.concurrency === concurrency);

/** The distinct workload and in-flight pairs of the runs whose target passes `which`, in run order. */
function pointsOf(records: readonly RunRecord[], which: (target: string) => boolean): { workload: string; concurrency: number }[] {
  const seen = new Set<string>();
  return records.filter((r) => which(r.target) && !seen.has(`${r.workload}@${r.concurrency}`) && seen.add(`${r.workload}@${r.concurrency}`));
}

/** service ÷ bare and service ÷ raw per workload and concurrency, for workloads that run on more than the service. */
export function ratioTable(records: readonly RunRecord[]): string {
  const lines = [
    '| workload | in-flight | service RPC/s | bare RPC/s | raw pg RPC/s | raw pg prepared RPC/s | pgbench RPC/s | service ÷ bare | service ÷ raw pg | p99 service ms | p99 bare ms | p99 service ÷ bare |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { workload, concurrency } of pointsOf(records, (target) => target === 'service')) {
    const service = find(records, workload, 'service', concurrency);
    const bare = find(records, workload, 'bare', concurrency);
    const raw = find(records, workload, 'raw-pg', concurrency);
    const prepared = find(records, workload, 'raw-pg-prepared', concurrency);
    const pgbench = find(records, workload, 'pgbench', concurrency);
    if (bare === undefined && raw === undefined) continue;
    const rps = (r: RunRecord | undefined): number | undefined => r?.result.perSecond;
    lines.push(
      `| ${workload} | ${concurrency} | ${fmt(rps(service), 0)} | ${fmt(rps(bare), 0)} | ${fmt(rps(raw), 0)} | ${fmt(rps(prepared), 0)} | ${fmt(rps(pgbench), 0)} | ${fmt(ratio(rps(service), rps(bare)), 2)} | ${fmt(ratio(rps(service), rps(raw)), 2)} | ${fmt(service?.result.latencyMs.p99, 2)} | ${fmt(bare?.result.latencyMs.p99, 2)} | ${fmt(ratio(service?.result.latencyMs.p99, bare?.result.latencyMs.p99), 2)} |`,
    );
  }
  return lines.join('\n');
}

/** The h2load runs next to the grpc-js load generator's runs of the same workload on the service. */
export function h2loadTable(records: readonly RunRecord[]): string {
  const lines = [
    '| workload | in-flight | service h2load RPC/s | bare h2load RPC/s | service ÷ bare | p99 service ms | p99 bare ms | CPU ms/call service | CPU ms/call bare | h2load CPU s (service run) | service RPC/s with the grpc-js load generator |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { workload, concurrency } of pointsOf(records, (target) => target.endsWith(' h2load'))) {
    const service = find(records, workload, 'service h2load', concurrency);
    const bare = find(records, workload, 'bare h2load', concurrency);
    const grpcJs = find(records, workload, 'service', concurrency);
    lines.push(
      `| ${workload} | ${concurrency} | ${fmt(service?.result.perSecond, 0)} | ${fmt(bare?.result.perSecond, 0)} | ${fmt(ratio(service?.result.perSecond, bare?.result.perSecond), 2)} | ${fmt(service?.result.latencyMs.p99, 2)} | ${fmt(bare?.result.latencyMs.p99, 2)} | ${fmt(cpuPerCall(service), 3)} | ${fmt(cpuPerCall(bare), 3)} | ${fmt(service?.result.loadgenCpuSeconds, 2)} | ${fmt(grpcJs?.result.perSecond, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** CompleteSession's transaction with and without the outbox statements (bench/writeSql.ts), per in-flight count. */
export function outboxTable(records: readonly RunRecord[]): string {
  const lines = [
    '| in-flight | with outbox RPC/s | without RPC/s | cost | p99 with ms | p99 without ms | DB CPU ms/call with | without |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const without of records.filter((r) => r.target === 'raw-pg-no-outbox' && r.workload === 'CompleteSession')) {
    const withOutbox = find(records, 'CompleteSession', 'raw-pg', without.concurrency);
    const dbPerCall = (r: RunRecord | undefined): number | undefined =>
      r?.dbCpuSeconds === undefined || r.result.calls === 0 ? undefined : (r.dbCpuSeconds * 1000) / r.result.calls;
    const cost = outboxCost(withOutbox, without);
    lines.push(
      `| ${without.concurrency} | ${fmt(withOutbox?.result.perSecond, 0)} | ${fmt(without.result.perSecond, 0)} | ${cost === undefined ? '–' : `${fmt(cost * 100, 1)} %`} | ${fmt(withOutbox?.result.latencyMs.p99, 2)} | ${fmt(without.result.latencyMs.p99, 2)} | ${fmt(dbPerCall(withOutbox), 3)} | ${fmt(dbPerCall(without), 3)} |`,
    );
  }
  return lines.join('\n');
}

/** 1 − with ÷ without: the share of throughput the outbox statements cost. */
const outboxCost = (withOutbox: RunRecord | undefined, without: RunRecord | undefined): number | undefined => {
  const share = ratio(withOutbox?.result.perSecond, without?.result.perSecond);
  return share === undefined ? undefined : 1 - share;
};

/** One target of the issue, checked against this run. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** Undefined: this run did not measure it. */
  readonly met: boolean | undefined;
}

/**
 * Issue 15's targets (item 6, and item 5's peak RSS), judged on the runs shown
 * (`shown`: the median runs) where this run measured them; "zero errors" is
 * judged on every run (`all`), repetitions included.
 */
export function checkTargets(shown: readonly RunRecord[], all: readonly RunRecord[], listWorkload: string): TargetCheck[] {
  const checks: TargetCheck[] = [];
  /** The service's runs of one workload and in-flight count, every repetition: what "zero errors" is judged on. */
  const serviceRuns = (workload: string, concurrency: number): RunRecord[] =>
    all.filter((r) => r.workload === workload && r.target === 'service' && r.concurrency === concurrency);
  const failures = (runs: readonly RunRecord[]): number | undefined =>
    runs.length === 0 ? undefined : runs.reduce((sum, r) => sum + r.result.calls - r.result.ok, 0);
  /** The errors by code, and how many runs they were counted over. */
  const errorText = (runs: readonly RunRecord[]): string => {
    const counts: Record<string, number> = {};
    for (const r of runs) for (const [code, n] of Object.entries(r.result.errors)) counts[code] = (counts[code] ?? 0) + n;
    const entries = Object.entries(counts);
    const text = entries.length === 0 ? '0 errors' : entries.map(([code, n]) => `${code} ${n}`).join(', ');
    return runs.length > 1 ? `${text} in ${runs.length} runs` : text;
  };

  for (const workload of ['GetProfile', listWorkload]) {
    for (const concurrency of [16, 64]) {
      const service = find(shown, workload, 'service', concurrency);
      const bare = find(shown, workload, 'bare', concurrency);
      const t = ratio(service?.result.perSecond, bare?.result.perSecond);
      const p = ratio(service?.result.latencyMs.p99, bare?.result.latencyMs.p99);
      checks.push({
        target: `${workload} @${concurrency} throughput ≥ 1.0 × bare`,
        measured: t === undefined ? '–' : `${fmt(t, 2)} × (${fmt(service!.result.perSecond, 0)} vs ${fmt(bare!.result.perSecond, 0)}/s)`,
        met: t === undefined ? undefined : t >= 1.0,
      });
      checks.push({
        target: `${workload} @${concurrency} p99 ≤ 1.2 × bare`,
        measured: p === undefined ? '–' : `${fmt(p, 2)} × (${fmt(service!.result.latencyMs.p99, 2)} vs ${fmt(bare!.result.latencyMs.p99, 2)} ms)`,
        met: p === undefined ? undefined : p <= 1.2,
      });
      const runs = serviceRuns(workload, concurrency);
      const errors = failures(runs);
      checks.push({
        target: `${workload} @${concurrency} zero errors (service)`,
        measured: errors === undefined ? '–' : errorText(runs),
        met: errors === undefined ? undefined : errors === 0,
      });
    }
  }
  for (const concurrency of [16, 64]) {
    const service = cpuPerCall(find(shown, 'GetProfile', 'service', concurrency));
    const bare = cpuPerCall(find(shown, 'GetProfile', 'bare', concurrency));
    const c = ratio(service, bare);
    checks.push({
      target: `server CPU per GetProfile call @${concurrency} ≤ 1.2 × bare`,
      measured: c === undefined ? '–' : `${fmt(c, 2)} × (${fmt(service, 3)} vs ${fmt(bare, 3)} ms)`,
      met: c === undefined ? undefined : c <= 1.2,
    });
  }
  for (const [workload, floor] of [
    ['CompleteSession', 1000],
    ['CreateSession', 800],
  ] as const) {
    const run = find(shown, workload, 'service', 16);
    const runs = serviceRuns(workload, 16);
    const errors = failures(runs);
    checks.push({
      target: `${workload} @16 ≥ ${floor.toLocaleString('en').replace(',', ' ')}/s, zero errors`,
      measured: run === undefined ? '–' : `${fmt(run.result.perSecond, 0)}/s, ${errorText(runs)}`,
      met: run === undefined ? undefined : run.result.perSecond >= floor && errors === 0,
    });
  }
  const mixed = find(shown, 'Mixed', 'service', 16);
  checks.push({
    target: 'Mixed @16 p99 < 30 ms',
    measured: mixed === undefined ? '–' : `${fmt(mixed.result.latencyMs.p99, 2)} ms`,
    met: mixed === undefined ? undefined : mixed.result.latencyMs.p99 < 30,
  });
  for (const concurrency of [16, 64]) {
    const off = find(shown, 'GetProfile', 'service', concurrency);
    const on = find(shown, 'GetProfile', 'service tracing=0.01', concurrency);
    const share = ratio(on?.result.perSecond, off?.result.perSecond);
    if (share === undefined && concurrency === 64) continue;
    checks.push({
      target: `tracing at 1 % costs < 5 % of GetProfile throughput @${concurrency}`,
      measured: share === undefined ? '–' : `${fmt((1 - share) * 100, 1)} % (${fmt(on!.result.perSecond, 0)} vs ${fmt(off!.result.perSecond, 0)}/s off)`,
      met: share === undefined ? undefined : 1 - share < 0.05,
    });
  }
  const withOutbox = find(shown, 'CompleteSession', 'raw-pg', 16);
  const without = find(shown, 'CompleteSession', 'raw-pg-no-outbox', 16);
  const cost = outboxCost(withOutbox, without);
  checks.push({
    target: 'event outbox writes cost CompleteSession < 10 % (@16, its SQL with and without them)',
    measured: cost === undefined ? '–' : `${fmt(cost * 100, 1)} % (${fmt(withOutbox!.result.perSecond, 0)} vs ${fmt(without!.result.perSecond, 0)}/s)`,
    met: cost === undefined ? undefined : cost < 0.1,
  });
  const peak = (targets: readonly string[]): number => Math.max(0, ...all.filter((r) => targets.includes(r.target)).map((r) => r.server?.rssPeakMb ?? 0));
  const service = peak(['service', 'service h2load']);
  const bare = peak(['bare', 'bare h2load']);
  checks.push({
    target: "service peak RSS ≤ the bare server's in the same run and < 200 MB",
    measured: service === 0 ? '–' : `${fmt(service, 0)} MB (bare ${bare === 0 ? 'not run' : `${fmt(bare, 0)} MB`})`,
    met: service === 0 || bare === 0 ? undefined : service <= bare && service < 200,
  });
  return checks;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  const lines = ['| target | measured | met |', '| --- | --- | --- |'];
  for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.met === undefined ? 'not measured' : c.met ? 'met' : 'NOT met'} |`);
  return lines.join('\n');
}
