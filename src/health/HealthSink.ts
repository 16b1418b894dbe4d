import type { ProbeRecord } from './DependencyMonitor';
import type { HealthStatus } from './types';

/**
 * Where health results go besides the history: declared here (the producer),
 * implemented by metrics and alerting, passed in by the composition root, so
 * health imports neither.
 */
export interface HealthSink {
  /** One probe finished. */
  probed?(record: ProbeRecord): void;
  /** The overall status and readiness after a probe. */
  overall?(status: HealthStatus, ready: boolean): void;
}

/** Where the monitor reports whether the critical dependencies allow serving (the readiness gate). */
export interface ReadinessSink {
  set(condition: string, ok: boolean, reason?: string): void;
}
