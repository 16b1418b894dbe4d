import type { Logger } from 'pino';
import { DependencyMonitor, type ProbeRecord } from './DependencyMonitor';
import { HealthHistory, type HealthEventPage } from './HealthHistory';
import type { HealthSink, ReadinessSink } from './HealthSink';
import { isReady, summarise, type StandIns } from './summarise';
import type { DependencyCheck, HealthReport } from './types';

export interface HealthMonitorDeps {
  /** The database check first (see `suspectDatabase`), then the configured upstreams. */
  readonly checks: readonly DependencyCheck[];
  readonly environment: string;
  readonly historySize: number;
  /** Probe interval while a dependency fails (capped by each check's own interval). */
  readonly failingCheckIntervalMs: number;
  readonly logger: Logger;
  /** Removes secrets from probe errors. */
  readonly sanitize: (text: string) => string;
  /** Metrics, alerting: told of every probe and of the overall status. */
  readonly sinks: readonly HealthSink[];
  /** What stands in for a critical dependency that is down (a standby serving reads for the primary). */
  readonly standIns?: StandIns;
}

export interface HealthMonitor {
  /** Probes every dependency once, reports readiness, then keeps probing in the background. */
  start(readiness: ReadinessSink): Promise<void>;
  report(): HealthReport;
  /** Re-evaluates readiness from the latest probes (a stand-in came or went). */
  publish(): void;
  events(query: { pageSize: number; beforeSeq?: number; dependency?: string }): HealthEventPage;
  /** The request path saw the database fail: probe it now rather than at the next interval (faster alerts). */
  suspectDatabase(): void;
  stop(): void;
}

/**
 * Health: background probes of the database and the configured upstreams,
 * the cached report and history behind the HealthService API, transition
 * logs, readiness. Nothing here runs on a request path except reading caches.
 */
export function createHealthMonitor(deps: HealthMonitorDeps): HealthMonitor {
  const { sanitize, sinks } = deps;
  const logger = deps.logger.child({ module: 'health' });
  const history = new HealthHistory(deps.historySize);

  let readiness: ReadinessSink | undefined;
  const report = (): HealthReport =>
    summarise(
      monitors.map((m) => m.snapshot()),
      deps.standIns,
    );
  const publish = (): void => {
    if (readiness === undefined) return;
    const current = report();
    const ready = isReady(current, false, deps.standIns);
    readiness.set('critical-dependencies-healthy', ready, current.message);
    for (const sink of sinks) sink.overall?.(current.status, ready);
  };

  const onProbe = (record: ProbeRecord): void => {
    const { check, current, previous, durationMs, finishedAt } = record;
    const status = current.status!;
    history.add({ time: finishedAt, environment: deps.environment, dependency: check.name, status, latencyMs: durationMs, errorCode: current.errorCode });
    if (previous.status !== status) {
      const fields = { dependency: check.name, critical: check.critical, from: previous.status ?? 'UNKNOWN', to: status };
      const detail = status === 'HEALTHY' ? {} : { errorCode: current.errorCode, error: current.error };
      logger[status === 'HEALTHY' ? 'info' : 'warn']({ ...fields, ...detail }, `${check.name} is ${status}: ${current.message}`);
    }
    for (const sink of sinks) sink.probed?.(record);
    publish();
  };

  const onError = (error: unknown): void => logger.error({ err: error }, 'recording a health probe failed');
  const monitors = deps.checks.map(
    (check) => new DependencyMonitor(check, { failingIntervalMs: Math.min(deps.failingCheckIntervalMs, check.intervalMs), sanitize, onProbe, onError }),
  );

  return {
    async start(sink) {
      // Readiness waits for the first probe of every dependency.
      await Promise.all(monitors.map((m) => m.start()));
      readiness = sink;
      publish();
    },
    report,
    publish,
    events: (query) => history.list(query),
    suspectDatabase() {
      monitors[0]?.probeSoon();
    },
    stop() {
      for (const monitor of monitors) monitor.stop();
    },
  };
}
