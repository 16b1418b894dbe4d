import type { DependencyCheck, ProbeOutcome } from '../types';

/** What the topology knows of one database endpoint (src/db/endpoints), as plain data. */
export interface EndpointHealthView {
  readonly host: string;
  readonly port: number;
  readonly role: 'primary' | 'standby' | 'fenced' | 'foreign' | 'unreachable' | 'unknown';
  readonly replayTime: Date | null | undefined;
  readonly bytesBehind: bigint | undefined;
  readonly errorCode: string | undefined;
  readonly error: string | undefined;
}

/** `postgresql-<host>-<port>`, within the dependency-name rules (lower-case letters, digits, dashes; 63 characters). */
export function endpointDependencyName(host: string, port: number): string {
  const tail = `-${port}`;
  const slug = host
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `postgresql-${slug}`.slice(0, 63 - tail.length) + tail;
}

function outcomeOf(view: EndpointHealthView): ProbeOutcome {
  switch (view.role) {
    case 'primary':
      return { status: 'HEALTHY', message: 'Primary: writes and reads go here' };
    case 'standby': {
      const replay = view.replayTime === null || view.replayTime === undefined ? 'nothing replayed yet' : `replayed up to ${view.replayTime.toISOString()}`;
      const behind = view.bytesBehind === undefined ? 'bytes behind unknown (primary unreachable)' : `${view.bytesBehind} bytes behind`;
      return { status: 'HEALTHY', message: `Standby: ${replay}, ${behind}` };
    }
    case 'fenced':
      return {
        status: 'DEGRADED',
        message: 'Fenced: writable but not the primary (an old primary?); never written to until it is a standby or an operator chooses it',
        errorCode: 'FENCED',
        error: 'writable endpoint that is not the primary',
      };
    case 'foreign':
      return {
        status: 'UNHEALTHY',
        message: 'Not a member of this cluster (system identifier differs): not used',
        errorCode: 'FOREIGN_CLUSTER',
        error: 'system identifier differs',
      };
    case 'unreachable':
      return { status: 'UNHEALTHY', message: 'Database connection failed', errorCode: view.errorCode ?? 'UNREACHABLE', error: view.error ?? 'unreachable' };
    case 'unknown':
      return { status: 'UNHEALTHY', message: 'Not probed yet', errorCode: 'NOT_PROBED', error: 'not probed yet' };
  }
}

/**
 * One non-critical dependency per database endpoint: its role and, for a
 * standby, its replication lag (last replayed commit time, bytes behind the
 * primary). The topology probes the endpoints; this reports its latest view.
 */
export function createEndpointCheck(deps: {
  readonly view: () => EndpointHealthView;
  readonly databaseName: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}): DependencyCheck {
  const first = deps.view();
  return {
    name: endpointDependencyName(first.host, first.port),
    type: 'DATABASE',
    critical: false,
    endpoint: { hostname: first.host, port: first.port, protocol: 'postgresql', databaseName: deps.databaseName },
    intervalMs: deps.intervalMs,
    timeoutMs: deps.timeoutMs,
    probe: () => Promise.resolve(outcomeOf(deps.view())),
  };
}
