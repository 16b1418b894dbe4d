import type { Logger } from 'pino';
import type { Config, DatabaseConfig } from '../config/config';
import type { SecretRegistry } from '../log/SecretRegistry';
import { SERVICE_VERSION } from '../paths';
import { startTracing, type ServiceTracing } from '../tracing/startTracing';
import type { Metrics, StartupScope } from './ServiceDeps';

export type { ServiceTracing } from '../tracing/startTracing';

/**
 * OpenTelemetry (README "Tracing"): off, and every part undefined, until an
 * OTLP endpoint is configured. The parts go to the database, the coaching
 * API, health and the shutdown; a failed start flushes and stops it too.
 */
export function createTracing(
  config: Config,
  parts: { metrics: Metrics; logger: Logger; secrets: SecretRegistry; database: () => DatabaseConfig },
  scope: StartupScope,
): ServiceTracing {
  const tracing = startTracing(config.tracing, {
    events: { exported: parts.metrics.spansExported, dropped: parts.metrics.spansDropped },
    target: parts.database,
    scrub: (text) => parts.secrets.scrub(text),
    checkIntervalMs: config.db.healthCheckIntervalMs,
    version: SERVICE_VERSION,
    logger: parts.logger.child({ module: 'tracing' }),
  });
  scope.defer(() => tracing.shutdown());
  return tracing;
}
