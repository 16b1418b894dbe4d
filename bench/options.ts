import { parseTracingModes, type TracingMode } from './tracing';

/** How a bench invocation was asked to run (`npm run bench -- [flags]`). */
export interface BenchOptions {
  readonly mode: 'full' | 'smoke' | 'soak' | 'quick';
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly concurrencies: readonly number[];
  /** Workload names to run (all when empty). */
  readonly only: readonly string[];
  /** Targets to run (all when empty). */
  readonly targets: readonly string[];
  readonly deadlineMs: number;
  readonly poolSize: number;
  readonly scale: number;
  readonly pgbench: boolean;
  /** Run the h2load targets when h2load is installed. */
  readonly h2load: boolean;
  /** Each run is made this many times (targets interleaved); the report shows the median run and the spread. */
  readonly repeat: number;
  /** Run the service under `node --cpu-prof` and summarise the profile. */
  readonly profile: boolean;
  readonly soakMs: number;
  /** Folder for the JSON lines, the markdown report and logs (a temp folder when unset). */
  readonly out: string | undefined;
  readonly databaseUrl: string | undefined;
  /** Folder of the service build to run (its dist/ and migrations/): compare builds before and after a change. */
  readonly serviceDir: string | undefined;
  /** Start the service with the node flags production uses (package.json `config.nodeFlags`); off with --no-shipped-flags. */
  readonly shippedFlags: boolean;
  /** Extra node flags for the service process, after the start script's (e.g. --max-semi-space-size=8). */
  readonly serviceNodeFlags: readonly string[];
  /**
   * Node-flags variants of the service (`--flag-sets`), each its own process
   * run in turn with the service: these flags instead of the shipped ones.
   */
  readonly flagSets: readonly (readonly string[])[];
  /** Tracing variants of the service: off (always run) and sampling ratios (bench/tracing.ts). */
  readonly tracing: readonly TracingMode[];
}

export const USAGE = `npm run bench -- [--smoke | --soak | --quick] [options]
  --smoke                 a few seconds, tiny data set, asserts nothing about speed (CI)
  --quick                 just the issue's targets, median of 3 (bench/quick.ts; about 12 minutes)
  --soak                  mixed load on the service at 16 in-flight for --soak-minutes (5): RSS growth
  --duration=S            measured seconds per run (10)
  --warmup=S              warm-up seconds per run, not measured (3)
  --concurrency=1,16,64   in-flight calls
  --repeat=N              make every run N times, targets interleaved; report the median run and the min–max spread (1)
  --only=A,B              workloads (GetProfile, ListSessions, …)
  --targets=A,B           service, bare, raw-pg, raw-pg-prepared, raw-pg-no-outbox, pgbench, h2load
  --deadline-ms=N         gRPC deadline per call, 0 for none (5000)
  --pool=N                connections of the service, bare server and raw client pools (25)
  --scale=F               data volume factor (1 = 10 000 profiles, 100 000 sessions)
  --no-pgbench            skip pgbench even when installed
  --no-h2load             skip the h2load targets even when h2load is installed
  --profile               run the service under node --cpu-prof and print its top frames
  --out=DIR               keep results.jsonl, results.md, logs and profiles in DIR
  --service-dir=DIR       run the service built in DIR (DIR/dist/src/main.js) instead of this checkout's
  --service-node-flags=F  extra node flags for the service, space-separated, after the shipped ones
                          (e.g. --max-semi-space-size=8; for V8 flags the last value wins)
  --no-shipped-flags      run the service without the node flags it ships with (package.json config.nodeFlags)
  --flag-sets="A;B"       also run the service once per set of node flags (instead of the shipped ones, before
                          --service-node-flags), ';' between sets, 'none' for no flags; targets 'service flags=…'
  --tracing=off,1,0.01    also run the service with tracing on at these sampling ratios (OTLP to a local sink), against off
  BENCH_DATABASE_URL      use this PostgreSQL (a role that may create databases) instead of an embedded one`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument "${arg}"\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const known = [
    'smoke',
    'soak',
    'quick',
    'repeat',
    'no-h2load',
    'duration',
    'warmup',
    'concurrency',
    'only',
    'targets',
    'deadline-ms',
    'pool',
    'scale',
    'no-pgbench',
    'profile',
    'out',
    'soak-minutes',
    'service-dir',
    'service-node-flags',
    'no-shipped-flags',
    'tracing',
    'flag-sets',
  ];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown flag --${key}\n${USAGE}`);
  const number = (key: string, fallback: number): number => {
    const raw = flags.get(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} must be a non-negative number`);
    return value;
  };
  const list = (key: string): string[] => (flags.get(key) ?? '').split(',').filter((s) => s !== '');
  const modes = (['smoke', 'soak', 'quick'] as const).filter((m) => flags.has(m));
  if (modes.length > 1) throw new Error(`--${modes.join(' and --')} do not go together`);
  const mode = modes[0] ?? 'full';
  const smoke = mode === 'smoke';
  const quick = mode === 'quick';
  const repeat = number('repeat', quick ? 3 : 1);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a positive integer');
  const concurrencies = list('concurrency').map(Number);
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--concurrency takes positive integers');
  return {
    mode,
    warmupMs: number('warmup', smoke ? 0.2 : quick ? 2 : 3) * 1000,
    durationMs: number('duration', smoke ? 0.3 : quick ? 8 : 10) * 1000,
    concurrencies: concurrencies.length > 0 ? concurrencies : smoke ? [4] : [1, 16, 64],
    only: list('only'),
    targets: list('targets'),
    deadlineMs: number('deadline-ms', 5000),
    poolSize: number('pool', 25),
    // --quick: twice the sessions, so three repeats of CompleteSession on the service and its raw-pg pair do not run out.
    scale: number('scale', smoke ? 0.02 : quick ? 2 : 1),
    pgbench: !flags.has('no-pgbench'),
    h2load: !flags.has('no-h2load'),
    repeat,
    profile: flags.has('profile'),
    soakMs: number('soak-minutes', smoke ? 0.05 : 5) * 60_000,
    out: flags.get('out'),
    serviceDir: flags.get('service-dir'),
    shippedFlags: !flags.has('no-shipped-flags'),
    serviceNodeFlags: (flags.get('service-node-flags') ?? '').split(' ').filter((f) => f !== ''),
    flagSets: (flags.get('flag-sets') ?? '')
      .split(';')
      .filter((set) => set.trim() !== '')
      .map((set) => (set.trim() === 'none' ? [] : set.split(' ').filter((f) => f !== ''))),
    tracing: parseTracingModes(flags.get('tracing') ?? (quick ? 'off,0.01' : undefined)),
    databaseUrl: process.env.BENCH_DATABASE_URL === '' ? undefined : process.env.BENCH_DATABASE_URL,
  };
}
