import type { DependencySnapshot, HealthReport } from './types';

/**
 * A critical dependency whose outage the service rides out in part: the
 * description of what stands in (a standby serving reads for the primary),
 * or undefined when nothing does.
 */
export type StandIns = (dependency: string) => string | undefined;
const noStandIns: StandIns = () => undefined;

const describeOne = (d: DependencySnapshot): string => `${d.name} ${d.status ?? 'not probed yet'}${d.critical ? '' : ' (non-critical)'}`;

/**
 * The service's health from its dependencies': UNHEALTHY when a critical
 * dependency is down (or not probed yet), DEGRADED when a non-critical one is
 * down or any is impaired, HEALTHY otherwise.
 */
export function summarise(dependencies: readonly DependencySnapshot[], standIns: StandIns = noStandIns): HealthReport {
  const blocking = dependencies.filter((d) => d.critical && (d.status === undefined || d.status === 'UNHEALTHY') && standIns(d.name) === undefined);
  const impaired = dependencies.filter((d) => !blocking.includes(d) && d.status !== 'HEALTHY');
  const describe = (d: DependencySnapshot): string => {
    const standIn = d.critical && (d.status === undefined || d.status === 'UNHEALTHY') ? standIns(d.name) : undefined;
    return standIn === undefined ? describeOne(d) : `${describeOne(d)} (${standIn})`;
  };
  const checked = dependencies.flatMap((d) => (d.lastCheck === undefined ? [] : [d.lastCheck.getTime()]));
  const base = {
    dependencies,
    checkedAt: checked.length === 0 ? undefined : new Date(Math.max(...checked)),
    checkDurationMs: Math.max(0, ...dependencies.map((d) => d.responseTimeMs)),
  };
  if (blocking.length > 0) {
    return { ...base, status: 'UNHEALTHY', message: `Service is unavailable: ${[...blocking, ...impaired].map(describe).join(', ')}` };
  }
  if (impaired.length > 0) return { ...base, status: 'DEGRADED', message: `Service is degraded: ${impaired.map(describe).join(', ')}` };
  return { ...base, status: 'HEALTHY', message: 'Service is fully operational' };
}

/** Ready to take traffic: every critical dependency reachable (HEALTHY or DEGRADED) or stood in for, and not draining. */
export function isReady(report: HealthReport, draining: boolean, standIns: StandIns = noStandIns): boolean {
  return !draining && report.dependencies.every((d) => !d.critical || d.status === 'HEALTHY' || d.status === 'DEGRADED' || standIns(d.name) !== undefined);
}
