import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User plus system CPU seconds a process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
  if (fields === undefined) return 0;
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** CPU seconds by pid of `parent` and its current children (a postmaster and its backends). */
export function treeCpu(parent: number): Map<number, number> {
  const cpu = new Map<number, number>([[parent, cpuSeconds(parent)]]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // ppid is field 4, index 1 here.
    if (fields !== undefined && Number(fields[1]) === parent) cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / clockTicks());
  }
  return cpu;
}

/**
 * CPU a process tree used between two {@link treeCpu} snapshots: the growth of
 * processes seen both times plus all of those that started in between.
 * Backends that exited in between are missed (their share is small: pools keep connections).
 */
export function treeCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return Math.max(0, total);
}

/** Memory of a process from /proc/<pid>/status, in MiB: current (VmRSS) and lifetime peak (VmHWM). */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Samples a process's RSS on a timer; `stop()` returns the highest value seen. */
export function sampleRss(pid: number, everyMs: number): { stop(): number; samples: number[] } {
  const samples: number[] = [];
  const take = (): void => {
    const { rss } = memoryMb(pid);
    if (rss > 0) samples.push(rss);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return samples.length === 0 ? 0 : Math.max(...samples);
    },
  };
}
