import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState } from '../resilience/createDatabasePolicy';

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];

/** Metrics of the policies in front of a dependency: breaker state and transitions, retries, bulkhead rejections. */
export function createResilienceMetrics(registry: Registry) {
  const breakerStateGauge = new Gauge({
    name: 'coaching_circuit_breaker_state',
    help: 'Circuit breaker state by dependency: 1 for the current state, 0 for the others.',
    labelNames: ['dependency', 'state'] as const,
    registers: [registry],
  });
  const breakerTransitions = new Counter({
    name: 'coaching_circuit_breaker_transitions_total',
    help: 'Circuit breaker state changes by dependency and the state entered.',
    labelNames: ['dependency', 'state'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'coaching_db_retries_total',
    help: 'Database work retried after a transient failure, by dependency and reason (serialization failures included: slonik does not retry).',
    labelNames: ['dependency', 'reason'] as const,
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'coaching_db_bulkhead_rejections_total',
    help: 'Database work refused by the bulkhead (RESOURCE_EXHAUSTED), by dependency and reason (deadline: the expected wait did not fit in the deadline, queue-full, queue-timeout).',
    labelNames: ['dependency', 'reason'] as const,
    registers: [registry],
  });
  const setState = (dependency: string, state: BreakerState): void => {
    for (const s of BREAKER_STATES) breakerStateGauge.set({ dependency, state: s }, s === state ? 1 : 0);
  };
  setState('postgresql-primary', 'closed');

  return {
    breakerState(dependency: string, state: BreakerState): void {
      setState(dependency, state);
      breakerTransitions.inc({ dependency, state });
    },
    retry(dependency: string, reason: string): void {
      retries.inc({ dependency, reason });
    },
    bulkheadRejected(dependency: string, reason: string): void {
      rejections.inc({ dependency, reason });
    },
  };
}
