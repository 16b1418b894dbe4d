import type { DependencyCheck, ProbeOutcome } from '../types';
import { abortable } from './abortable';

/** What the Redis probe needs: a PING, and the state of the breaker in front of Redis. */
export interface RedisProbeTarget {
  ping(): Promise<string>;
  readonly endpoint: { readonly hostname: string; readonly port: number; readonly tls: boolean };
  circuitState(): string;
}

/**
 * Redis carries the event stream, which is not critical: when it is down,
 * events wait in the outbox and every RPC still works. So the dependency is
 * `critical: false`: it makes GetHealth DEGRADED, never NOT_SERVING.
 */
export function createRedisCheck(target: RedisProbeTarget, timing: { intervalMs: number; timeoutMs: number }): DependencyCheck {
  return {
    name: 'redis',
    type: 'CACHE',
    critical: false,
    endpoint: { hostname: target.endpoint.hostname, port: target.endpoint.port, protocol: target.endpoint.tls ? 'rediss' : 'redis' },
    intervalMs: timing.intervalMs,
    timeoutMs: timing.timeoutMs,
    circuitState: () => target.circuitState(),
    async probe(signal): Promise<ProbeOutcome> {
      try {
        await abortable(target.ping(), signal);
        return { status: 'HEALTHY', message: 'redis is healthy' };
      } catch (error) {
        const code = signal.aborted ? 'TIMEOUT' : 'UNREACHABLE';
        return {
          status: 'UNHEALTHY',
          message: 'redis is not reachable: events wait in the outbox',
          errorCode: `REDIS_${code}`,
          error: (error as Error).message,
        };
      }
    },
  };
}
