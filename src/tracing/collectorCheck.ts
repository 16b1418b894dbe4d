import type { OtlpExportConfig } from '../config/tracingConfig';
import type { DependencyCheck } from '../health/types';
import type { ExportState } from './SpanExportMonitor';

export const COLLECTOR_DEPENDENCY_NAME = 'otel-collector';

/**
 * The OTLP collector as a non-critical dependency in GetHealth: judged from
 * the exports the batch processor already makes (no probe traffic of its own,
 * and never a reason to stop serving). Unhealthy while the latest export failed.
 */
export function createCollectorCheck(config: OtlpExportConfig, state: () => ExportState, intervalMs: number): DependencyCheck {
  const url = new URL(config.url);
  return {
    name: COLLECTOR_DEPENDENCY_NAME,
    type: config.protocol === 'grpc' ? 'GRPC_SERVICE' : 'HTTP_SERVICE',
    critical: false,
    endpoint: {
      hostname: url.hostname,
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
      protocol: `otlp/${config.protocol}`,
    },
    intervalMs,
    timeoutMs: 1000,
    probe: () => {
      const now = state();
      if (now.lastOk === false) {
        return Promise.resolve({
          status: 'UNHEALTHY',
          message: 'spans cannot be exported to the collector',
          errorCode: 'OTLP_EXPORT_FAILED',
          error: now.lastError,
        });
      }
      const message = now.lastOk === undefined ? 'no spans exported yet' : `spans exported: ${now.exported}, dropped: ${now.dropped}`;
      return Promise.resolve({ status: 'HEALTHY', message });
    },
  };
}
