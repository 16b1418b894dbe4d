import type { Logger } from 'pino';
import type { ProbeRecord } from '../health/DependencyMonitor';
import type { WebhookNotifier } from './createWebhookNotifier';

/** The stable `alert` value of outage log lines and webhook payloads. */
export const DEPENDENCY_DOWN = 'DependencyDown';

export interface OutageAlerterDeps {
  /** Failed probes in a row of a critical dependency that raise the alert. */
  readonly threshold: number;
  readonly environment: string;
  readonly logger: Logger;
  readonly countAlert: (dependency: string, state: 'firing' | 'resolved') => void;
  readonly webhook: WebhookNotifier | undefined;
  /** Names this instance in every alert (INSTANCE_ID). */
  readonly instance?: string;
  /** Whether this instance pages (the pager lease); the others log and count only. Default: always. */
  readonly pages?: () => boolean;
}

/**
 * One alert per outage of a critical dependency: after `threshold` failed
 * probes in a row it fires once (error log line with `alert`, a metric, a
 * webhook POST), stays quiet while the outage lasts, and sends one recovery
 * notice at the first successful probe. A flapping dependency therefore
 * alerts at most once per `threshold` failures.
 */
export function createOutageAlerter(deps: OutageAlerterDeps) {
  const failingSince = new Map<string, Date>();
  const firing = new Map<string, Date>();
  /** Outages this instance paged for: only those get a recovery page. */
  const paged = new Set<string>();
  const instance = deps.instance === undefined ? {} : { instance: deps.instance };

  return {
    observe(record: ProbeRecord): void {
      const { check, current, finishedAt } = record;
      if (!check.critical) return;
      const name = check.name;
      if (current.status === 'UNHEALTHY') {
        if (!failingSince.has(name)) failingSince.set(name, finishedAt);
        if (firing.has(name) || current.consecutiveFailures < deps.threshold) return;
        firing.set(name, finishedAt);
        const pages = deps.pages?.() ?? true;
        const details = {
          alert: DEPENDENCY_DOWN,
          alertState: 'firing' as const,
          ...instance,
          paged: pages && deps.webhook !== undefined,
          dependency: name,
          dependencyType: check.type,
          consecutiveFailures: current.consecutiveFailures,
          failingSince: failingSince.get(name)!.toISOString(),
          errorCode: current.errorCode,
          error: current.error,
        };
        deps.logger.error(details, `ALERT ${name} is down: ${current.consecutiveFailures} failed probes in a row (${current.errorCode})`);
        deps.countAlert(name, 'firing');
        if (pages) {
          paged.add(name);
          deps.webhook?.send(toPayload(details, deps.environment, finishedAt, current.message));
        }
        return;
      }
      const since = failingSince.get(name);
      failingSince.delete(name);
      const firedAt = firing.get(name);
      if (firedAt === undefined || since === undefined) return;
      firing.delete(name);
      const details = {
        alert: DEPENDENCY_DOWN,
        alertState: 'resolved' as const,
        ...instance,
        dependency: name,
        dependencyType: check.type,
        failingSince: since.toISOString(),
        downForMs: finishedAt.getTime() - since.getTime(),
      };
      deps.logger.info(details, `RESOLVED ${name} is reachable again after ${details.downForMs} ms`);
      deps.countAlert(name, 'resolved');
      if (paged.delete(name)) deps.webhook?.send(toPayload(details, deps.environment, finishedAt, current.message));
    },
  };
}

function toPayload(details: Record<string, unknown>, environment: string, at: Date, message: string): Record<string, unknown> {
  const { alertState, dependencyType, consecutiveFailures, failingSince, errorCode, downForMs, ...rest } = details;
  return {
    ...rest,
    status: alertState,
    service: 'coaching-service',
    environment,
    type: dependencyType,
    critical: true,
    time: at.toISOString(),
    message,
    failing_since: failingSince,
    ...(consecutiveFailures !== undefined && { consecutive_failures: consecutiveFailures }),
    ...(errorCode !== undefined && { error_code: errorCode }),
    ...(downForMs !== undefined && { down_for_ms: downForMs }),
  };
}
