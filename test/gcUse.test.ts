import { gcBetween, traceGcSummary } from '../bench/gcUse';

describe('bench GC accounting', () => {
  it("counts each kind's collections and time between two /metrics scrapes", () => {
    const scrape = (minor: [number, number], major: [number, number]): string =>
      [
        '# TYPE nodejs_gc_duration_seconds histogram',
        'nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3',
        `nodejs_gc_duration_seconds_sum{kind="minor"} ${minor[1]}`,
        `nodejs_gc_duration_seconds_count{kind="minor"} ${minor[0]}`,
        `nodejs_gc_duration_seconds_sum{kind="major"} ${major[1]}`,
        `nodejs_gc_duration_seconds_count{kind="major"} ${major[0]}`,
        'nodejs_gc_duration_seconds_count{kind="incremental"} 4',
        'nodejs_gc_duration_seconds_sum{kind="incremental"} 0.01',
      ].join('\n');
    expect(gcBetween(scrape([10, 0.05], [1, 0.02]), scrape([25, 0.125], [3, 0.05]))).toEqual({ minor: { count: 15, ms: 75 }, major: { count: 2, ms: 30 } });
  });

  it("sums Node 24's --trace-gc lines by kind and reason, with the incremental marking steps, among other output", () => {
    const log = [
      '[31194:0x334fe000]       74 ms: Scavenge 4.9 (6.0) -> 4.5 (7.0) MB, pooled: 0 MB, 6.04 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ',
      '{"level":"info","msg":"rpc finished"}',
      '[31194:0x334fe000]       95 ms: Scavenge 5.2 (7.2) -> 5.0 (7.7) MB, pooled: 0 MB, 1.46 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ',
      '[31203:0x3bf36000]     1095 ms: Mark-Compact 88.4 (143.5) -> 66.3 (131.0) MB, pooled: 0 MB, 19.69 / 0.00 ms  (+ 1.3 ms in 1 steps since start of marking, biggest step 1.3 ms, walltime since start of marking 213 ms) (average mu = 0.813, current mu = 0.813) finalize incremental marking via task; GC in old space requested',
      '[31203:0x3bf36000]     1195 ms: Mark-Compact (reduce) 60.1 (70.0) -> 50.3 (60.0) MB, pooled: 0 MB, 9.00 / 0.00 ms  (average mu = 0.813, current mu = 0.813) memory reducer; GC in old space requested',
    ].join('\n');
    expect(traceGcSummary(log)).toEqual([
      { kind: 'Mark-Compact', reason: 'finalize incremental marking via task', count: 1, pauseMs: 19.7, incrementalMs: 1.3 },
      { kind: 'Mark-Compact (reduce)', reason: 'memory reducer', count: 1, pauseMs: 9, incrementalMs: 0 },
      { kind: 'Scavenge', reason: 'allocation failure', count: 2, pauseMs: 7.5, incrementalMs: 0 },
    ]);
  });
});
