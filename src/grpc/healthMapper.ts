import { DependencyType, ServiceStatus, type DependencyHealth } from '../generated/coaching/health/v1/dependency_health';
import type { HealthEvent } from '../generated/coaching/health/v1/health_event';
import type { GetHealthResponse } from '../generated/coaching/health/v1/health_service';
import type * as health from '../health/types';
import { optionalTimestampOf, timestampOf } from './timestamps';

const STATUS: Record<health.HealthStatus, ServiceStatus> = {
  HEALTHY: ServiceStatus.SERVICE_STATUS_HEALTHY,
  DEGRADED: ServiceStatus.SERVICE_STATUS_DEGRADED,
  UNHEALTHY: ServiceStatus.SERVICE_STATUS_UNHEALTHY,
};
const TYPE: Record<health.DependencyType, DependencyType> = {
  DATABASE: DependencyType.DEPENDENCY_TYPE_DATABASE,
  GRPC_SERVICE: DependencyType.DEPENDENCY_TYPE_GRPC_SERVICE,
  HTTP_SERVICE: DependencyType.DEPENDENCY_TYPE_HTTP_SERVICE,
  CACHE: DependencyType.DEPENDENCY_TYPE_CACHE,
};

const statusToProto = (status: health.HealthStatus | undefined): ServiceStatus =>
  status === undefined ? ServiceStatus.SERVICE_STATUS_UNSPECIFIED : STATUS[status];

function dependencyToProto(d: health.DependencySnapshot): DependencyHealth {
  const pool = d.poolInfo;
  return {
    name: d.name,
    type: TYPE[d.type],
    status: statusToProto(d.status),
    isCritical: d.critical,
    message: d.message,
    error: d.error,
    config: {
      hostname: d.endpoint.hostname,
      port: d.endpoint.port,
      protocol: d.endpoint.protocol,
      databaseName: d.endpoint.databaseName ?? '',
      schemaName: d.endpoint.schemaName ?? '',
      poolInfo:
        pool === undefined
          ? undefined
          : {
              maxConnections: pool.maxConnections,
              activeConnections: pool.activeConnections,
              idleConnections: pool.idleConnections,
              waitCount: String(pool.waitCount),
            },
    },
    lastCheck: optionalTimestampOf(d.lastCheck),
    responseTimeMs: d.responseTimeMs,
    averageLatencyMs: d.averageLatencyMs,
    lastFailureTime: optionalTimestampOf(d.lastFailureTime),
    consecutiveFailures: d.consecutiveFailures,
    circuitState: d.circuitState,
  };
}

export function healthReportToProto(report: health.HealthReport): GetHealthResponse {
  return {
    status: statusToProto(report.status),
    message: report.message,
    dependencies: report.dependencies.map(dependencyToProto),
    checkedAt: optionalTimestampOf(report.checkedAt),
    checkDurationMs: report.checkDurationMs,
  };
}

export function healthEventToProto(e: health.HealthEvent): HealthEvent {
  return {
    time: timestampOf(e.time),
    environment: e.environment,
    dependency: e.dependency,
    status: statusToProto(e.status),
    latencyMs: e.latencyMs,
    errorCode: e.errorCode,
  };
}
