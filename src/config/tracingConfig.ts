/**
 * OpenTelemetry tracing settings, read from the standard OTEL_* variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
 * that config.ts collected. The SDK packages used (`@opentelemetry/sdk-trace`,
 * the OTLP exporters with explicit options) get every value from here, so
 * this stays the one place that interprets the environment.
 */
import type { createReader } from './reader';

type Reader = ReturnType<typeof createReader>;

export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** Where and how spans are exported, when tracing is on. */
export interface OtlpExportConfig {
  readonly protocol: OtlpProtocol;
  /** The full URL spans are sent to (http: with /v1/traces; grpc: scheme, host and port). */
  readonly url: string;
  /** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS: may carry credentials, so they are registered as secrets. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** The batch span processor's bounds (OTEL_BSP_*). */
export interface SpanBatchConfig {
  /** Spans waiting for export; beyond it new spans are dropped (and counted), never buffered. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMs: number;
  readonly exportTimeoutMs: number;
}

export interface TracingConfig {
  /** False unless an OTLP endpoint is configured and neither OTEL_SDK_DISABLED nor OTEL_TRACES_EXPORTER=none says otherwise. */
  readonly enabled: boolean;
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: TraceSampler;
  /** Ratio of the traceidratio samplers, 0 to 1. */
  readonly samplerRatio: number;
  /** OTEL_PROPAGATORS: which of W3C trace context and baggage are read and written. */
  readonly propagators: readonly ('tracecontext' | 'baggage')[];
  /** undefined when no endpoint is configured (tracing off). */
  readonly export: OtlpExportConfig | undefined;
  readonly batch: SpanBatchConfig;
}

/** `key=value,key2=value2` (values percent-encoded), as OTEL_RESOURCE_ATTRIBUTES and the OTLP headers use it. */
function parseKeyValueList(r: Reader, key: string, secret: boolean): Record<string, string> {
  const raw = r.optionalString(key);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const item of raw.split(',')) {
    if (item.trim() === '') continue;
    const at = item.indexOf('=');
    const name = at > 0 ? item.slice(0, at).trim() : '';
    let value: string | undefined;
    try {
      value = at > 0 ? decodeURIComponent(item.slice(at + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    if (name === '' || value === undefined || !/^[A-Za-z0-9._\-/]{1,255}$/.test(name)) {
      // Headers may carry tokens: never echo the item.
      r.problem(key, `must be a comma-separated list of key=value pairs (values percent-encoded)${secret ? '' : `, got ${JSON.stringify(item)}`}`);
      continue;
    }
    out[name] = value;
  }
  return out;
}

function endpointUrl(r: Reader, key: string): URL | undefined {
  const raw = r.optionalString(key);
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  r.problem(key, 'must be an http:// or https:// URL');
  return undefined;
}

/** Reads the OTEL_* variables; problems go to the reader so config.ts reports them with every other one. */
export function readTracingConfig(r: Reader): TracingConfig {
  const disabled = r.bool('OTEL_SDK_DISABLED', false);
  const exporter = r.oneOf('OTEL_TRACES_EXPORTER', ['otlp', 'none'] as const, 'otlp');
  const protocol = r.oneOf('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', OTLP_PROTOCOLS, r.oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS, 'http/protobuf'));
  const signalEndpoint = endpointUrl(r, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = endpointUrl(r, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // The spec: a signal endpoint is used as is; the base one gets /v1/traces appended for HTTP.
  const url =
    signalEndpoint?.toString() ??
    (baseEndpoint === undefined ? undefined : protocol === 'grpc' ? baseEndpoint.toString() : `${baseEndpoint.toString().replace(/\/$/, '')}/v1/traces`);
  const headers = {
    ...parseKeyValueList(r, 'OTEL_EXPORTER_OTLP_HEADERS', true),
    ...parseKeyValueList(r, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', true),
  };
  const timeoutMs = r.int('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', r.int('OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, 1, 600_000), 1, 600_000);

  const sampler = r.oneOf('OTEL_TRACES_SAMPLER', TRACE_SAMPLERS, 'parentbased_always_on');
  const ratioText = r.optionalString('OTEL_TRACES_SAMPLER_ARG');
  let samplerRatio = 1;
  if (ratioText !== undefined && sampler.endsWith('traceidratio')) {
    const ratio = Number(ratioText);
    if (!/^\d*\.?\d+(e-?\d+)?$/i.test(ratioText) || ratio < 0 || ratio > 1)
      r.problem('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1, got ${JSON.stringify(ratioText)}`);
    else samplerRatio = ratio;
  }

  const propagators: ('tracecontext' | 'baggage')[] = [];
  for (const name of (r.optionalString('OTEL_PROPAGATORS') ?? 'tracecontext,baggage').split(',').map((p) => p.trim())) {
    if (name === 'tracecontext' || name === 'baggage') propagators.push(name);
    else if (name !== 'none' && name !== '') r.problem('OTEL_PROPAGATORS', `supports tracecontext, baggage and none, got ${JSON.stringify(name)}`);
  }

  const batch: SpanBatchConfig = {
    maxQueueSize: r.int('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1, 1_000_000),
    maxExportBatchSize: r.int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1, 1_000_000),
    scheduledDelayMs: r.int('OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000),
    exportTimeoutMs: r.int('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1, 600_000),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    r.problem('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', `(${batch.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`);
  }

  const resourceAttributes = parseKeyValueList(r, 'OTEL_RESOURCE_ATTRIBUTES', false);
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the spec's order).
  const serviceName = r.string('OTEL_SERVICE_NAME', resourceAttributes['service.name'] ?? 'coaching-service');
  const exportConfig = url === undefined ? undefined : { protocol, url, headers, timeoutMs };
  return {
    enabled: !disabled && exporter === 'otlp' && exportConfig !== undefined,
    serviceName,
    resourceAttributes,
    sampler,
    samplerRatio,
    propagators,
    export: exportConfig,
    batch,
  };
}
