/**
 * `npm run bench -- --quick`: only what the targets are judged on
 * (issue 15, item 6), as the final run makes it: median of 3 (targets
 * interleaved per repetition), 2 s warm-up + 8 s measured per run, scale 2
 * (twice the seeded sessions, so the write runs do not run out), tracing off
 * and at 1 % for GetProfile. 19 runs × 3 = 57 runs of ~10.8 s each, plus
 * start-up: about 12 minutes on the 2-core machine (BENCHMARKS.md, Method).
 */
import type { Target } from './loadgen/protocol';
import type { H2loadTarget } from './h2load';

export type PlannedTarget = Target | 'pgbench' | H2loadTarget;

export interface QuickStep {
  readonly workload: string;
  readonly concurrencies: readonly number[];
  readonly targets: readonly PlannedTarget[];
  /** The tracing variants of the service run for this workload too (--tracing, off and 1 % by default here). */
  readonly traced?: boolean;
}

export const QUICK_PLAN: readonly QuickStep[] = [
  { workload: 'GetProfile', concurrencies: [16, 64], targets: ['service', 'bare', 'service h2load', 'bare h2load'], traced: true },
  { workload: 'ListSessions', concurrencies: [16, 64], targets: ['service', 'bare'] },
  { workload: 'CompleteSession', concurrencies: [16], targets: ['service', 'raw-pg', 'raw-pg-no-outbox'] },
  { workload: 'CreateSession', concurrencies: [16], targets: ['service'] },
  { workload: 'Mixed', concurrencies: [16], targets: ['service'] },
];
