/**
 * `npm run bench`: PostgreSQL (embedded or BENCH_DATABASE_URL), the seeded
 * volume, the service and the bare baseline as separate processes, and one
 * forked load-generator process per run. Prints one JSON line per run and
 * then markdown tables: every run, the ratios, and the issue's targets.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PROJECT_ROOT } from '../src/paths';
import { startBenchDatabase, type BenchDatabase } from './database';
import { sharesTable, summariseCpuProfile } from './cpuProfile';
import { describeEnvironment, machineBusyPercent } from './environment';
import type { RunSpec, Target } from './loadgen/protocol';
import { parseOptions, type BenchOptions } from './options';
import { findPgbench, pgbenchScripts, runPgbench } from './pgbench';
import { toolVersion } from './tools';
import { histogramBuckets, POOL_ACQUIRE_HISTOGRAM, quantileBetween, scrape } from './metrics';
import { checkTargets, h2loadTable, medianRuns, outboxTable, ratioTable, resultsTable, targetsTable } from './report';
import { findH2load, H2LOAD_REQUESTS, H2LOAD_TARGETS, runH2load } from './h2load';
import { flagSetTarget, gcTable, traceGcTable } from './gcReport';
import { traceGcSummary } from './gcUse';
import { QUICK_PLAN, type PlannedTarget } from './quick';
import { runLoad, type RunRecord } from './runLoad';
import { seed } from './seed';
import { childEnv, runScript, serviceEnv, shippedNodeFlags, startServer, type ServerProcess } from './servers';
import { runSoak, soakSummary } from './soak';
import { scheduledSessionCount, volumeAt, type Volume } from './volume';
import { WORKLOADS } from './workloads';
import { startOtlpSink, tracingEnv, tracingTable, tracingTarget } from './tracing';

const LOADGEN_TARGETS: readonly Target[] = ['service', 'bare', 'raw-pg', 'raw-pg-prepared', 'raw-pg-no-outbox'];

const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

/** Runs the migrations with the service's own CLI and seeds the volume. */
async function prepareData(db: BenchDatabase, volume: Volume, env: Record<string, string>, serviceDir: string | undefined): Promise<Record<string, number>> {
  await runScript('dist/src/cli/migrate.js', ['up'], env, serviceDir);
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const started = Date.now();
    const summary = await seed(client, volume);
    await client.query('vacuum analyze');
    log(`seeded ${JSON.stringify(summary)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return summary;
  } finally {
    await client.end();
  }
}

interface Planned {
  readonly workload: string;
  readonly target: PlannedTarget;
  readonly concurrency: number;
  /** A tracing variant of the service (sampling ratio). */
  readonly tracing?: number;
  /** A node-flags variant of the service (its index in --flag-sets). */
  readonly flagSet?: number;
  readonly repeat: number;
}

/**
 * The runs, grouped by workload and in-flight count; with --repeat=N each group's
 * targets run in turn N times (service, bare, service, bare…), so drift of a
 * shared machine hits every target of a comparison alike.
 */
function plan(
  options: BenchOptions,
  tools: { pgbench: boolean; h2load: boolean },
  scripts: Record<string, string>,
  tracingRatios: readonly number[],
): Planned[] {
  const flagSets = options.flagSets.map((_, flagSet) => flagSet);
  const wanted = (target: string): boolean =>
    options.targets.length === 0 || options.targets.includes(target) || (target.endsWith(' h2load') && options.targets.includes('h2load'));
  const available = (target: PlannedTarget): boolean => (target === 'pgbench' ? tools.pgbench : target.endsWith(' h2load') ? tools.h2load : true);
  const steps: { workload: string; concurrency: number; targets: PlannedTarget[]; traced: boolean }[] = [];
  if (options.mode === 'quick') {
    for (const step of QUICK_PLAN) {
      if (options.only.length > 0 && !options.only.includes(step.workload)) continue;
      for (const concurrency of step.concurrencies)
        steps.push({ workload: step.workload, concurrency, targets: [...step.targets], traced: step.traced === true });
    }
  } else {
    for (const workload of WORKLOADS) {
      if (options.only.length > 0 ? !options.only.includes(workload.name) : workload.defaultRun === false) continue;
      if (workload.requiresFile !== undefined && !existsSync(join(options.serviceDir ?? PROJECT_ROOT, workload.requiresFile))) continue;
      const targets: PlannedTarget[] = LOADGEN_TARGETS.filter((target) => workload.targets[target] !== undefined);
      if (scripts[workload.name] !== undefined) targets.push('pgbench');
      if (H2LOAD_REQUESTS[workload.name] !== undefined) targets.push(...H2LOAD_TARGETS);
      for (const concurrency of options.concurrencies) {
        const at = (target: PlannedTarget): boolean => {
          const only = workload.onlyAt?.[target as Target];
          // The smoke run keeps every target, so CI exercises each of them once.
          return only === undefined || options.mode === 'smoke' || only.includes(concurrency);
        };
        steps.push({ workload: workload.name, concurrency, targets: targets.filter(at), traced: true });
      }
    }
  }
  const runs: Planned[] = [];
  for (const step of steps) {
    const group = step.targets
      .filter((target) => available(target) && wanted(target))
      .flatMap((target): Omit<Planned, 'repeat'>[] => {
        const run = { workload: step.workload, target, concurrency: step.concurrency };
        if (target !== 'service') return [run];
        return [run, ...(step.traced ? tracingRatios.map((tracing) => ({ ...run, tracing })) : []), ...flagSets.map((flagSet) => ({ ...run, flagSet }))];
      });
    for (let repeat = 1; repeat <= options.repeat; repeat++) runs.push(...group.map((run) => ({ ...run, repeat })));
  }
  return runs;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const outDir = options.out ?? mkdtempSync(join(tmpdir(), 'coaching-bench-'));
  temporaryOut = options.out === undefined ? outDir : undefined;
  mkdirSync(outDir, { recursive: true });
  const jsonl = join(outDir, 'results.jsonl');
  const emit = (record: object): void => {
    const line = JSON.stringify(record);
    process.stdout.write(`${line}\n`);
    appendFileSync(jsonl, `${line}\n`);
  };
  const volume = volumeAt(options.scale);
  const pgbenchBinary = options.pgbench && options.mode !== 'soak' ? findPgbench() : undefined;
  const h2loadBinary = options.h2load && options.mode !== 'soak' ? findH2load() : undefined;
  if (options.h2load && options.mode !== 'soak' && h2loadBinary === undefined)
    log('h2load not found (Debian nghttp2-client, or H2LOAD): its targets are skipped');
  const scripts = pgbenchScripts(volume);
  // Service + bare + raw pools, plus pgbench's clients, with room to spare.
  const tracingRatios = options.tracing.filter((m): m is number => m !== 'off');
  const maxConnections = options.poolSize * (3 + tracingRatios.length + options.flagSets.length) + Math.max(...options.concurrencies) + 20;

  const db = await startBenchDatabase({ externalUrl: options.databaseUrl, maxConnections });
  const servers: ServerProcess[] = [];
  const sink = tracingRatios.length === 0 ? undefined : await startOtlpSink();
  let broken = false;
  try {
    emit({
      ...(await describeEnvironment(db.description, pgbenchBinary === undefined ? undefined : (toolVersion(pgbenchBinary) ?? 'unknown'))),
      h2load: !options.h2load ? 'not used (--no-h2load)' : h2loadBinary === undefined ? 'not installed' : (toolVersion(h2loadBinary) ?? 'unknown'),
    });
    const cliEnv = serviceEnv({ databaseUrl: db.url, grpcPort: 0, metricsPort: 0, poolSize: options.poolSize });
    const seeded = await prepareData(db, volume, cliEnv, options.serviceDir);
    // The flags production runs with (package.json config.nodeFlags), then the extra ones: for V8 flags the last value wins.
    const serviceNodeFlags = [...(options.shippedFlags ? shippedNodeFlags(options.serviceDir) : []), ...options.serviceNodeFlags];
    emit({ kind: 'data', volume, seeded, service: options.serviceDir ?? 'this checkout', serviceNodeFlags });

    const profileDir = join(outDir, 'profile');
    // Each service process profiled under its own name, so the report can tell them apart.
    const profiled = (name: string): string[] => (options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
    const service = await startServer({
      name: 'service',
      script: 'dist/src/main.js',
      env: (port, metricsPort) => serviceEnv({ databaseUrl: db.url, grpcPort: port, metricsPort, poolSize: options.poolSize }),
      logDir: outDir,
      nodeFlags: [...serviceNodeFlags, ...profiled('service')],
      hasMetrics: true,
      ...(options.serviceDir !== undefined && { root: options.serviceDir }),
    });
    servers.push(service);
    log(`service pid ${service.pid} on port ${service.port}, logs in ${service.logFile}`);

    if (options.mode === 'soak') {
      const soak = await runSoak({ options, volume, db, service, nodeFlags: serviceNodeFlags, outDir, log });
      emit(soak);
      const summary = soakSummary(soak);
      process.stdout.write(`\n${summary}\n`);
      writeFileSync(join(outDir, 'results.md'), `${summary}\n`);
      return soak.result.calls === 0 ? 1 : 0;
    }

    // One service process per tracing ratio, exporting to the sink (bench/tracing.ts).
    const traced = new Map<number, ServerProcess>();
    for (const ratio of tracingRatios) {
      const variant = await startServer({
        name: `service-tracing-${ratio}`,
        script: 'dist/src/main.js',
        env: (port, metricsPort) => ({
          ...serviceEnv({ databaseUrl: db.url, grpcPort: port, metricsPort, poolSize: options.poolSize }),
          ...tracingEnv(ratio, sink!.port),
        }),
        logDir: outDir,
        nodeFlags: [...serviceNodeFlags, ...profiled(`service-tracing-${ratio}`)],
        hasMetrics: true,
        ...(options.serviceDir !== undefined && { root: options.serviceDir }),
      });
      servers.push(variant);
      traced.set(ratio, variant);
      log(`service with tracing at ${ratio * 100} % pid ${variant.pid} on port ${variant.port}`);
    }

    // One service process per --flag-sets entry: those node flags instead of the shipped ones, then --service-node-flags.
    const flagged: ServerProcess[] = [];
    for (const [index, flags] of options.flagSets.entries()) {
      const variant = await startServer({
        name: `service-flags-${index + 1}`,
        script: 'dist/src/main.js',
        env: (port, metricsPort) => serviceEnv({ databaseUrl: db.url, grpcPort: port, metricsPort, poolSize: options.poolSize }),
        logDir: outDir,
        nodeFlags: [...flags, ...options.serviceNodeFlags, ...profiled(`service-flags-${index + 1}`)],
        hasMetrics: true,
        ...(options.serviceDir !== undefined && { root: options.serviceDir }),
      });
      servers.push(variant);
      flagged.push(variant);
      log(`${flagSetTarget(flags)} pid ${variant.pid} on port ${variant.port}`);
    }

    const bare = await startServer({
      name: 'bare',
      script: 'dist/bench/baseline/server.js',
      env: (port) => childEnv({ BENCH_DATABASE_URL: db.url, BENCH_PORT: String(port), BENCH_POOL_SIZE: String(options.poolSize) }),
      logDir: outDir,
      // Profiled too, so a profile of the service can be read against the baseline's.
      nodeFlags: profiled('bare'),
    });
    servers.push(bare);
    log(`bare baseline pid ${bare.pid} on port ${bare.port}`);

    const records: RunRecord[] = [];
    let completeCursor = 0;
    let slotCursor = 0;
    const runs = plan(options, { pgbench: pgbenchBinary !== undefined, h2load: h2loadBinary !== undefined }, scripts, tracingRatios);
    const repeats = options.repeat > 1 ? ` (${options.repeat} repetitions, targets interleaved)` : '';
    log(`${runs.length} runs of ${(options.warmupMs + options.durationMs) / 1000} s each${repeats}; results in ${outDir}`);
    for (const [i, run] of runs.entries()) {
      let record: RunRecord;
      if (run.target === 'service h2load' || run.target === 'bare h2load') {
        const server = run.target === 'service h2load' ? service : bare;
        record = await runH2load({
          binary: h2loadBinary!,
          target: run.target,
          workload: run.workload,
          server,
          concurrency: run.concurrency,
          warmupMs: options.warmupMs,
          durationMs: options.durationMs,
          deadlineMs: options.deadlineMs,
          postmasterPid: db.postmasterPid,
        });
        if (server.exited()) throw new Error(`${server.name} exited during ${run.workload} (h2load); see ${server.logFile}`);
      } else if (run.target === 'pgbench') {
        record = await runPgbench({
          binary: pgbenchBinary!,
          databaseUrl: db.url,
          workload: run.workload,
          script: scripts[run.workload]!,
          concurrency: run.concurrency,
          warmupMs: options.warmupMs,
          durationMs: options.durationMs,
          postmasterPid: db.postmasterPid,
        });
      } else {
        const ratio = run.tracing;
        const server =
          ratio !== undefined
            ? traced.get(ratio)
            : run.flagSet !== undefined
              ? flagged[run.flagSet]
              : run.target === 'service'
                ? service
                : run.target === 'bare'
                  ? bare
                  : undefined;
        const spec: RunSpec = {
          target: run.target,
          workload: run.workload,
          concurrency: run.concurrency,
          warmupMs: options.warmupMs,
          durationMs: options.durationMs,
          deadlineMs: options.deadlineMs,
          grpcPort: server?.port ?? 0,
          databaseUrl: db.url,
          poolSize: options.poolSize,
          volume,
          completeFrom: completeCursor,
          completeTo: scheduledSessionCount(volume),
          slotFrom: slotCursor,
          seed: 0x9e3779b1 ^ (i + 1),
        };
        const metricsPort = server?.metricsPort;
        const before = metricsPort === undefined ? undefined : await scrape(metricsPort);
        record = await runLoad(spec, server?.pid, db.postmasterPid, metricsPort);
        const after = metricsPort === undefined || before === undefined ? undefined : await scrape(metricsPort);
        if (before !== undefined && after !== undefined) {
          const wait = quantileBetween(histogramBuckets(before, POOL_ACQUIRE_HISTOGRAM), histogramBuckets(after, POOL_ACQUIRE_HISTOGRAM), 0.99);
          if (wait !== undefined) record = { ...record, poolAcquireWait: { p99Ms: wait.ms, count: wait.count } };
        }
        if (ratio !== undefined) record = { ...record, target: tracingTarget(ratio) };
        if (run.flagSet !== undefined) record = { ...record, target: flagSetTarget(options.flagSets[run.flagSet]!) };
        completeCursor += record.result.consumed.completions;
        slotCursor += record.result.consumed.slots;
        if (server?.exited() === true) throw new Error(`${server.name} exited during ${run.workload}; see ${server.logFile}`);
      }
      if (options.repeat > 1) record = { ...record, repeat: run.repeat };
      records.push(record);
      emit(record);
      const r = record.result;
      log(
        `[${i + 1}/${runs.length}] ${run.workload} ${record.target} @${run.concurrency}${options.repeat > 1 ? ` #${run.repeat}` : ''}: ${r.perSecond}/s p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms, ${r.calls - r.ok} errors${r.errorSample === undefined ? '' : ` (${r.errorSample})`}`,
      );
      if (r.calls === 0) broken = true;
    }

    const busyAfter = await machineBusyPercent();
    const gcTraced = servers.filter((server) => server.nodeFlags.includes('--trace-gc'));
    for (const server of servers.splice(0)) await server.stop();
    const listWorkload = WORKLOADS.some((w) => w.name === 'ListSessions') ? 'ListSessions' : 'ListProfiles';
    const shown = medianRuns(records);
    const median = options.repeat > 1 ? `, median of ${options.repeat} runs (by RPC/s) with the min–max spread` : '';
    const sections = [
      `## Results (${options.durationMs / 1000} s measured after ${options.warmupMs / 1000} s warm-up, deadline ${options.deadlineMs} ms${median})`,
      resultsTable(shown),
      '## Ratios',
      ratioTable(shown),
      ...(shown.some((r) => r.target.endsWith(' h2load')) ? ["## h2load (one connection, a C client; the server's own ceiling)", h2loadTable(shown)] : []),
      ...(shown.some((r) => r.target === 'raw-pg-no-outbox')
        ? ["## Outbox A/B (the service's CompleteSession SQL through pg, bench/writeSql.ts)", outboxTable(shown)]
        : []),
      '## Targets (issue 15, item 6)',
      targetsTable(checkTargets(shown, records, listWorkload)),
      `Machine busy after the runs (1 s sample, bench stopped): ${busyAfter} %.`,
      ...(tracingRatios.length === 0
        ? []
        : [`## Tracing cost (OTLP/HTTP to a local sink, ${sink!.bytes()} bytes exported)`, tracingTable(shown, options.tracing)]),
      '## Garbage collection per 1 000 calls (every repetition summed; measurement windows only)',
      gcTable(records),
      ...gcTraced.flatMap((server) => [
        `## \`--trace-gc\` of ${server.name} (${server.nodeFlags.join(' ')}), its whole life`,
        traceGcTable(traceGcSummary(readFileSync(server.logFile, 'utf8'))),
      ]),
    ];
    if (options.profile) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      for (const file of files) {
        const summary = summariseCpuProfile(join(profileDir, file));
        sections.push(
          `## Service CPU profile (${file}, ${summary.totalMs} ms on CPU)`,
          sharesTable('caused by (Node internals and native code folded into their caller)', summary.owners.slice(0, 20)),
          sharesTable('layer (self time)', summary.layers.slice(0, 20)),
          sharesTable('frame', summary.frames),
        );
      }
    }
    const markdown = sections.join('\n\n');
    writeFileSync(join(outDir, 'results.md'), `${markdown}\n`);
    process.stdout.write(`\n${markdown}\n`);
    if (options.out !== undefined) log(`results in ${outDir}`);
    return broken ? 1 : 0;
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    await sink?.close();
    await db.stop();
  }
}

/** The report folder when the bench made it itself: removed after a clean run, kept (with the logs) after a failure. */
let temporaryOut: string | undefined;

main().then(
  (code) => {
    if (code === 0 && temporaryOut !== undefined) rmSync(temporaryOut, { recursive: true, force: true });
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench: harness failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
