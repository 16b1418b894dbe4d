/**
 * `--tracing=off,1,0.01`: the service is also run with tracing on, sampling
 * the given ratios of root traces (parentbased_traceidratio), exporting
 * OTLP/HTTP protobuf to a sink in the bench process that accepts and
 * discards every batch. Each variant is its own service process; its runs
 * are reported as target `service tracing=R` and compared with plain
 * `service` (tracing off).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunRecord } from './runLoad';

export type TracingMode = 'off' | number;

export function parseTracingModes(raw: string | undefined): TracingMode[] {
  if (raw === undefined || raw === '') return ['off'];
  return raw.split(',').map((item) => {
    if (item === 'off') return 'off';
    const ratio = Number(item);
    if (!/^\d*\.?\d+$/.test(item) || ratio <= 0 || ratio > 1) throw new Error(`--tracing takes off or sampling ratios in (0, 1], got "${item}"`);
    return ratio;
  });
}

export const tracingTarget = (ratio: number): string => `service tracing=${ratio}`;

/** The OTEL_* variables of a service variant that samples `ratio` and exports to the sink. */
export function tracingEnv(ratio: number, sinkPort: number): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
  };
}

/** An OTLP/HTTP endpoint that answers 200 to every export and counts the bytes. */
export async function startOtlpSink(): Promise<{ port: number; bytes: () => number; close(): Promise<void> }> {
  let bytes = 0;
  const server: Server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Throughput and p99 of each tracing variant against the service with tracing off, per workload and in-flight. */
export function tracingTable(records: readonly RunRecord[], modes: readonly TracingMode[]): string {
  const ratios = modes.filter((m): m is number => m !== 'off');
  const lines = [
    `| workload | in-flight | off RPC/s | off p99 ms | ${ratios.map((r) => `${r * 100} % RPC/s | ${r * 100} % p99 ms | ${r * 100} % ÷ off`).join(' | ')} |`,
    `| --- | ---: | ---: | ---: | ${ratios.map(() => '---: | ---: | ---:').join(' | ')} |`,
  ];
  const variantOf = (off: RunRecord, ratio: number): RunRecord | undefined =>
    records.find((r) => r.target === tracingTarget(ratio) && r.workload === off.workload && r.concurrency === off.concurrency);
  // Only the runs that have a traced variant (--quick traces GetProfile alone).
  for (const off of records.filter((r) => r.target === 'service' && ratios.some((ratio) => variantOf(r, ratio) !== undefined))) {
    const cells = ratios.map((ratio) => {
      const on = variantOf(off, ratio);
      if (on === undefined) return '– | – | –';
      const share = off.result.perSecond === 0 ? '–' : (on.result.perSecond / off.result.perSecond).toFixed(2);
      return `${on.result.perSecond.toFixed(0)} | ${on.result.latencyMs.p99.toFixed(2)} | ${share}`;
    });
    lines.push(`| ${off.workload} | ${off.concurrency} | ${off.result.perSecond.toFixed(0)} | ${off.result.latencyMs.p99.toFixed(2)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
