import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, secretValues, type Config } from '../src/config/config';
import { ConfigError } from '../src/config/ConfigError';
import { changedKeys, passwordFingerprint } from '../src/app/changedKeys';

const BASE = { APP_ENV: 'test' };
const load = (env: Record<string, string>): Config => loadConfig({ env: { ...BASE, ...env }, envFile: '/nonexistent/.env' });
function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('OTEL_* configuration', () => {
  it('is off until an endpoint is configured; parent-based always-on sampling, W3C trace context and baggage by default', () => {
    const tracing = load({}).tracing;
    expect(tracing).toMatchObject({ enabled: false, export: undefined, serviceName: 'coaching-service', sampler: 'parentbased_always_on', samplerRatio: 1 });
    expect(tracing.propagators).toEqual(['tracecontext', 'baggage']);
    expect(tracing.batch).toEqual({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 5000, exportTimeoutMs: 30000 });
  });

  it('derives the traces URL per protocol as the specification says', () => {
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toMatchObject({
      enabled: true,
      export: { protocol: 'http/protobuf', url: 'http://collector:4318/v1/traces', timeoutMs: 10000 },
    });
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base/', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing.export?.url).toBe(
      'http://collector:4318/base/v1/traces',
    );
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).tracing.export?.url).toBe(
      'http://collector:4317/',
    );
    // The signal endpoint is used as is, and wins.
    expect(
      load({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b:8443/custom',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }).tracing.export,
    ).toMatchObject({ url: 'https://b:8443/custom', protocol: 'http/json' });
  });

  it('honours OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none even with an endpoint', () => {
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing.enabled).toBe(false);
  });

  it('reads the service name, resource attributes, sampler and headers; OTEL_SERVICE_NAME wins over service.name', () => {
    const tracing = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,deployment.environment=prod,team=coaching%20platform',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k3y-Secret-Value',
    }).tracing;
    expect(tracing).toMatchObject({ serviceName: 'from-attributes', sampler: 'parentbased_traceidratio', samplerRatio: 0.01 });
    expect(tracing.resourceAttributes).toEqual({ 'service.name': 'from-attributes', 'deployment.environment': 'prod', team: 'coaching platform' });
    expect(load({ OTEL_SERVICE_NAME: 'explicit', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).tracing.serviceName).toBe('explicit');
    // Header values are secrets: the scrubber learns them.
    const config = load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0ken-Secret' });
    expect(config.tracing.export?.headers).toEqual({ authorization: 'Bearer t0ken-Secret' });
    expect(secretValues(config)).toContain('Bearer t0ken-Secret');
  });

  it('lists every invalid value at once, never echoing a header', () => {
    const found = problems({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '2',
      OTEL_PROPAGATORS: 'b3',
      OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign-Secret',
      OTEL_BSP_MAX_QUEUE_SIZE: '10',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20',
      OTEL_RESOURCE_ATTRIBUTES: 'broken',
      OTEL_SDK_DISABLED: 'maybe',
    }).join('\n');
    for (const key of [
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_PROTOCOL must be one of grpc | http/protobuf | http/json',
      'OTEL_TRACES_SAMPLER must be one of',
      'OTEL_PROPAGATORS supports tracecontext, baggage and none',
      'OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list',
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE (20) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (10)',
      'OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list',
      'OTEL_SDK_DISABLED must be true or false',
    ]) {
      expect(found).toContain(key);
    }
    expect(found).not.toContain('no-equals-sign-Secret');
    expect(problems({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }).join('\n')).toContain(
      'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1',
    );
  });
});

describe('changedKeys', () => {
  it('names the changed leaves only; a rotated password file shows in its fingerprint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coaching-keys-'));
    try {
      const file = join(dir, 'password');
      writeFileSync(file, 'first-Secret');
      const before = load({ DB_PASSWORD_FILE: file });
      const first = passwordFingerprint(before);
      writeFileSync(file, 'second-Secret');
      const after = load({ DB_PASSWORD_FILE: file, DB_HOST: 'db.example', LOG_LEVEL: 'debug' });
      const keys = changedKeys(before, after);
      expect(keys).toEqual(['db.host', 'logLevel']);
      expect(passwordFingerprint(after)).not.toBe(first);
      expect(passwordFingerprint(after)).not.toContain('second');
      expect(JSON.stringify(keys)).not.toMatch(/Secret|db\.example|debug/);
      expect(changedKeys(after, after)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a changed list of several hosts as db.endpoints (one host only as db.host)', () => {
    const before = load({ DB_HOST: 'db-a,db-b' });
    const after = load({ DB_HOST: 'db-a,db-c' });
    const keys = changedKeys(before, after);
    expect(keys.some((key) => key.startsWith('db.endpoints'))).toBe(true);
    expect(keys).not.toContain('db.host');
    expect(JSON.stringify(keys)).not.toMatch(/db-c/);
  });
});
