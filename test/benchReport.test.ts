import type { RunRecord } from '../bench/runLoad';
import { checkTargets, medianRuns } from '../bench/report';

/** A run record with the fields the report reads; the rest are zero. */
function run(
  target: string,
  workload: string,
  concurrency: number,
  perSecond: number,
  extra: { failed?: number; p99?: number; cpuSeconds?: number; repeat?: number } = {},
): RunRecord {
  const calls = perSecond * 10;
  return {
    kind: 'run',
    target,
    workload,
    concurrency,
    deadlineMs: 5000,
    result: {
      calls,
      ok: calls - (extra.failed ?? 0),
      errors: extra.failed === undefined ? {} : { UNAVAILABLE: extra.failed },
      seconds: 10,
      perSecond,
      latencyMs: { p50: 1, p95: 2, p99: extra.p99 ?? 3, max: 4, mean: 1 },
      consumed: { completions: 0, slots: 0 },
      loadgenCpuSeconds: 0,
    },
    server: { cpuSeconds: extra.cpuSeconds ?? 1, rssPeakMb: 100, hwmMb: 100 },
    ...(extra.repeat !== undefined && { repeat: extra.repeat }),
    at: '2026-12-01T00:00:00.000Z',
  };
}

const target = (checks: ReturnType<typeof checkTargets>, name: string) => {
  const check = checks.find((c) => c.target === name);
  if (check === undefined) throw new Error(`no target "${name}" in ${checks.map((c) => c.target).join('; ')}`);
  return check;
};

describe('bench report', () => {
  it('shows the median run of each repeated run with the spread of all of them', () => {
    const runs = [
      run('service', 'GetProfile', 16, 900, { repeat: 1 }),
      run('bare', 'GetProfile', 16, 1000, { repeat: 1 }),
      run('service', 'GetProfile', 16, 1200, { repeat: 2 }),
      run('bare', 'GetProfile', 16, 1100, { repeat: 2 }),
      run('service', 'GetProfile', 16, 1000, { repeat: 3 }),
      run('bare', 'GetProfile', 16, 800, { repeat: 3 }),
    ];
    const shown = medianRuns(runs);
    expect(shown.map((r) => [r.target, r.result.perSecond, r.repeat, r.spread])).toEqual([
      ['service', 1000, 3, { runs: 3, minPerSecond: 900, maxPerSecond: 1200 }],
      ['bare', 1000, 1, { runs: 3, minPerSecond: 800, maxPerSecond: 1100 }],
    ]);
    expect(medianRuns([run('service', 'GetProfile', 16, 5)])[0]!.spread).toBeUndefined();
  });

  it('judges the targets on the median runs, zero errors on every run, and says what it did not measure', () => {
    const all = [
      run('service', 'GetProfile', 16, 1000, { repeat: 1, p99: 12, cpuSeconds: 1.1 }),
      run('bare', 'GetProfile', 16, 1000, { repeat: 1, p99: 10, cpuSeconds: 1 }),
      run('service', 'GetProfile', 16, 1100, { repeat: 2, p99: 11, failed: 1 }),
      run('bare', 'GetProfile', 16, 900, { repeat: 2, p99: 10 }),
      run('service', 'CompleteSession', 16, 1001),
      run('raw-pg', 'CompleteSession', 16, 950),
      run('raw-pg-no-outbox', 'CompleteSession', 16, 1000),
    ];
    const checks = checkTargets(medianRuns(all), all, 'ListSessions');
    expect(target(checks, 'GetProfile @16 throughput ≥ 1.0 × bare').met).toBe(true);
    expect(target(checks, 'GetProfile @16 p99 ≤ 1.2 × bare')).toMatchObject({ met: true, measured: '1.20 × (12.00 vs 10.00 ms)' });
    expect(target(checks, 'GetProfile @16 zero errors (service)')).toMatchObject({ met: false, measured: 'UNAVAILABLE 1 in 2 runs' });
    expect(target(checks, 'server CPU per GetProfile call @16 ≤ 1.2 × bare').met).toBe(true);
    expect(target(checks, 'CompleteSession @16 ≥ 1 000/s, zero errors').met).toBe(true);
    expect(target(checks, 'event outbox writes cost CompleteSession < 10 % (@16, its SQL with and without them)')).toMatchObject({
      met: true,
      measured: '5.0 % (950 vs 1000/s)',
    });
    for (const name of [
      'GetProfile @64 throughput ≥ 1.0 × bare',
      'CreateSession @16 ≥ 800/s, zero errors',
      'Mixed @16 p99 < 30 ms',
      'tracing at 1 % costs < 5 % of GetProfile throughput @16',
    ]) {
      expect(target(checks, name)).toMatchObject({ met: undefined, measured: '–' });
    }
    expect(target(checks, "service peak RSS ≤ the bare server's in the same run and < 200 MB").met).toBe(true);
  });
});
