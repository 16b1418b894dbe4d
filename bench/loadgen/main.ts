/**
 * The load-generator process: forked by the bench for one run, it receives a
 * RunSpec over IPC, drives the target with a closed loop, reports the start
 * and end of its measurement window (the bench samples the server's CPU and
 * memory at those moments) and then the result.
 */
import { status } from '@grpc/grpc-js';
import { summarise } from '../stats';
import { findWorkload } from '../workloads';
import { runClosedLoop } from './closedLoop';
import { LoadContext } from './LoadContext';
import type { FromLoadgen, RunSpec, ToLoadgen } from './protocol';

function send(message: FromLoadgen): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** gRPC status name, PostgreSQL SQLSTATE, or the exception's name. */
function classify(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number' && status[code] !== undefined) return status[code];
    if (typeof code === 'string') return `pg:${code}`;
  }
  return error instanceof Error ? error.name : 'unknown';
}

async function run(spec: RunSpec): Promise<void> {
  const workload = findWorkload(spec.workload);
  const factory = workload.targets[spec.target];
  if (factory === undefined) throw new Error(`workload ${spec.workload} has no ${spec.target} variant`);
  const context = new LoadContext(spec);
  const cpuBefore = process.cpuUsage();
  const outcome = await runClosedLoop(factory(context), {
    concurrency: spec.concurrency,
    warmupMs: spec.warmupMs,
    durationMs: spec.durationMs,
    onMeasuring: () => void send({ type: 'measuring' }),
    onMeasured: () => void send({ type: 'measured' }),
    classify,
  });
  const cpu = process.cpuUsage(cpuBefore);
  // Keep the connections (and their database backends) until the bench has sampled them.
  await sampled;
  await context.close();
  const calls = outcome.latencies.length;
  await send({
    type: 'result',
    result: {
      calls,
      ok: outcome.ok,
      errors: outcome.errors,
      seconds: outcome.seconds,
      perSecond: Math.round((calls / outcome.seconds) * 10) / 10,
      latencyMs: summarise(outcome.latencies.values()),
      consumed: { ...context.consumed },
      loadgenCpuSeconds: Math.round((cpu.user + cpu.system) / 10_000) / 100,
      ...(outcome.errorSample !== undefined && { errorSample: outcome.errorSample }),
    },
  });
}

let markSampled: () => void = () => undefined;
const sampled = new Promise<void>((resolve) => (markSampled = resolve));

process.on('message', (message: ToLoadgen) => {
  if (message.type === 'sampled') {
    markSampled();
    return;
  }
  run(message.spec).then(
    () => process.exit(0),
    async (error: unknown) => {
      await send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    },
  );
});
