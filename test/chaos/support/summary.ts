import { status } from '@grpc/grpc-js';
import type { Outcome } from './LoadGenerator';

/** One row of the chaos summary table. */
export interface ChaosRow {
  readonly scenario: string;
  readonly detectS?: number;
  readonly recoverS?: number;
  readonly failedByCode: Record<string, number>;
  readonly lost: number;
  readonly duplicated: number;
  readonly calls: number;
}

export function failedByCode(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) if (o.code !== status.OK) counts[status[o.code]] = (counts[status[o.code]] ?? 0) + 1;
  return counts;
}

const seconds = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(2));

export function renderTable(rows: readonly ChaosRow[]): string {
  const lines = [
    '| scenario | calls | detect s | recover s | failed RPCs by code | lost | duplicated |',
    '|---|---:|---:|---:|---|---:|---:|',
    ...rows.map((r) => {
      const failed =
        Object.entries(r.failedByCode)
          .map(([code, n]) => `${code} ${n}`)
          .join(', ') || 'none';
      return `| ${r.scenario} | ${r.calls} | ${seconds(r.detectS)} | ${seconds(r.recoverS)} | ${failed} | ${r.lost} | ${r.duplicated} |`;
    }),
  ];
  return lines.join('\n');
}
