import type { RunRecord } from './runLoad';

const fmt = (value: number | undefined, digits = 1): string => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

function errorsText(record: RunRecord): string {
  const entries = Object.entries(record.result.errors);
  return entries.length === 0 ? '0' : entries.map(([code, n]) => `${code} ${n}`).join(', ');
}

/** Every run as a markdown table row. */
export function resultsTable(records: readonly RunRecord[]): string {
  const lines = [
    '| workload | target | in-flight | RPC/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU s | CPU ms/call | peak RSS MB | DB CPU s | loadgen CPU s | pool wait p99 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of records) {
    const l = r.result.latencyMs;
    const perCall = r.server === undefined || r.result.calls === 0 ? undefined : (r.server.cpuSeconds * 1000) / r.result.calls;
    lines.push(
      `| ${r.workload} | ${r.target} | ${r.concurrency} | ${fmt(r.result.perSecond, 0)} | ${fmt(l.p50, 2)} | ${fmt(l.p95, 2)} | ${fmt(l.p99, 2)} | ${fmt(l.max, 1)} | ${errorsText(r)} | ${fmt(r.server?.cpuSeconds, 2)} | ${fmt(perCall, 3)} | ${fmt(r.server?.rssPeakMb, 0)} | ${fmt(r.dbCpuSeconds, 2)} | ${fmt(r.result.loadgenCpuSeconds, 2)} | ${fmt(r.poolAcquireWait?.p99Ms, 2)} |`,
    );
  }
  return lines.join('\n');
}

const find = (records: readonly RunRecord[], workload: string, target: string, concurrency: number): RunRecord | undefined =>
  records.find((r) => r.workload === workload && r.target === target && r.concurrency === concurrency);

/** service ÷ bare and service ÷ raw per workload and concurrency, for workloads that run on more than the service. */
export function ratioTable(records: readonly RunRecord[]): string {
  const lines = [
    '| workload | in-flight | service RPC/s | bare RPC/s | raw pg RPC/s | raw pg prepared RPC/s | pgbench RPC/s | service ÷ bare | service ÷ raw pg | p99 service ms | p99 bare ms | p99 service ÷ bare |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const keys = [...new Set(records.filter((r) => r.target === 'service').map((r) => `${r.workload}\u0000${r.concurrency}`))];
  for (const key of keys) {
    const [workload, c] = key.split('\u0000') as [string, string];
    const concurrency = Number(c);
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

/** One target of the issue, checked against this run. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** The targets, where this run has the data to judge them (undefined: not measured). */
export function checkTargets(
  records: readonly RunRecord[],
  extra: { listWorkload: string; poolWaitP99Ms?: number; soakGrowthPercent?: number },
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const workload of ['GetProfile', extra.listWorkload]) {
    for (const concurrency of [16, 64]) {
      const service = find(records, workload, 'service', concurrency);
      const bare = find(records, workload, 'bare', concurrency);
      const t = ratio(service?.result.perSecond, bare?.result.perSecond);
      const p = ratio(service?.result.latencyMs.p99, bare?.result.latencyMs.p99);
      checks.push({ target: `${workload} @${concurrency} throughput ≥ 1.0 × bare`, measured: `${fmt(t, 2)} ×`, met: t === undefined ? undefined : t >= 1.0 });
      checks.push({ target: `${workload} @${concurrency} p99 ≤ 1.2 × bare`, measured: `${fmt(p, 2)} ×`, met: p === undefined ? undefined : p <= 1.2 });
    }
  }
  const complete = find(records, 'CompleteSession', 'service', 16);
  checks.push({
    target: 'CompleteSession @16 ≥ 1 000/s, zero errors',
    measured: complete === undefined ? '–' : `${fmt(complete.result.perSecond, 0)}/s, ${errorsText(complete)} errors`,
    met: complete === undefined ? undefined : complete.result.perSecond >= 1000 && complete.result.ok === complete.result.calls,
  });
  const mixed = find(records, 'Mixed', 'service', 16);
  checks.push({
    target: 'Mixed @16 p99 < 50 ms',
    measured: `${fmt(mixed?.result.latencyMs.p99, 2)} ms`,
    met: mixed === undefined ? undefined : mixed.result.latencyMs.p99 < 50,
  });
  const health = find(records, 'GetHealth', 'service', 64);
  checks.push({
    target: 'GetHealth @64 p99 < 100 ms',
    measured: `${fmt(health?.result.latencyMs.p99, 2)} ms`,
    met: health === undefined ? undefined : health.result.latencyMs.p99 < 100,
  });
  checks.push({
    target: 'pool acquisition wait p99 < 10 ms @64 (service metrics)',
    measured: `${fmt(extra.poolWaitP99Ms, 2)} ms`,
    met: extra.poolWaitP99Ms === undefined ? undefined : extra.poolWaitP99Ms < 10,
  });
  const peak = Math.max(0, ...records.filter((r) => r.target === 'service').map((r) => r.server?.rssPeakMb ?? 0));
  checks.push({ target: 'service peak RSS < 150 MB under load', measured: `${fmt(peak, 0)} MB`, met: peak === 0 ? undefined : peak < 150 });
  checks.push({
    target: 'RSS growth < 10 % over a 5-minute soak',
    measured: `${fmt(extra.soakGrowthPercent, 1)} %`,
    met: extra.soakGrowthPercent === undefined ? undefined : extra.soakGrowthPercent < 10,
  });
  return checks;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  const lines = ['| target | measured | met |', '| --- | --- | --- |'];
  for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.met === undefined ? 'not measured' : c.met ? 'yes' : 'NO'} |`);
  return lines.join('\n');
}
