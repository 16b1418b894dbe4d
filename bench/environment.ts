import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** The machine and what else was running on it: part of every report. */
export interface EnvironmentRecord {
  readonly kind: 'environment';
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly loadAverage: readonly number[];
  /** Share of all cores busy during one second before the bench started (other engineers' work). */
  readonly busyPercentBefore: number;
  /** The busiest other processes when the bench started (ps, %CPU over their lifetime). */
  readonly busiestProcesses: readonly string[];
  readonly database: string;
  readonly pgbench: string | undefined;
  readonly at: string;
}

export function busiestProcesses(count = 6): string[] {
  try {
    const out = execFileSync('ps', ['-eo', 'pcpu,etime,comm', '--sort=-pcpu'], { encoding: 'utf8' });
    return out
      .split('\n')
      .slice(1, count + 1)
      .map((line) => line.trim().replace(/\s+/g, ' '))
      .filter((line) => line !== '');
  } catch {
    return [];
  }
}

function cpuTimes(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy over `ms` (whole machine). */
export async function machineBusyPercent(ms = 1000): Promise<number> {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  return b.total === a.total ? 0 : Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10;
}

export async function describeEnvironment(database: string, pgbench: string | undefined): Promise<EnvironmentRecord> {
  const busyPercentBefore = await machineBusyPercent();
  return {
    kind: 'environment',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    busyPercentBefore,
    busiestProcesses: busiestProcesses(),
    database,
    pgbench,
    at: new Date().toISOString(),
  };
}
