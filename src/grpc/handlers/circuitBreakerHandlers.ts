import { NotFoundError, ValidationError } from '../../domain/errors';
import type {
  IsolateCircuitBreakerRequest,
  IsolateCircuitBreakerResponse,
  ResetCircuitBreakerRequest,
  ResetCircuitBreakerResponse,
} from '../../generated/coaching/health/v1/health_service';
import type { UnaryHandler } from '../wrapUnary';
import { dependencyNameViolation } from './validation';

/** A breaker an operator may act on. */
export interface OperableBreaker {
  breakerState(): string;
  reset(): void;
  isolate(): void;
}

/** The admin RPCs on the circuit breakers, by dependency name. Every action is logged (audit). */
export function createCircuitBreakerHandlers(breakers: ReadonlyMap<string, OperableBreaker>) {
  const find = (dependency: string): OperableBreaker => {
    if (dependency === '') throw new ValidationError([{ field: 'dependency', description: 'is required (e.g. "postgresql-primary")' }]);
    const violation = dependencyNameViolation('dependency', dependency);
    if (violation !== undefined) throw new ValidationError([violation]);
    const breaker = breakers.get(dependency);
    if (breaker === undefined) throw new NotFoundError('circuit breaker of dependency', dependency);
    return breaker;
  };

  const resetCircuitBreaker: UnaryHandler<ResetCircuitBreakerRequest, ResetCircuitBreakerResponse> = async (req, ctx) => {
    const breaker = find(req.dependency);
    const from = breaker.breakerState();
    breaker.reset();
    ctx.logger.warn({ dependency: req.dependency, from, to: breaker.breakerState(), action: 'reset' }, 'circuit breaker reset by an operator');
    return Promise.resolve({ dependency: req.dependency, circuitState: breaker.breakerState() });
  };

  const isolateCircuitBreaker: UnaryHandler<IsolateCircuitBreakerRequest, IsolateCircuitBreakerResponse> = async (req, ctx) => {
    const breaker = find(req.dependency);
    const from = breaker.breakerState();
    breaker.isolate();
    ctx.logger.warn({ dependency: req.dependency, from, to: breaker.breakerState(), action: 'isolate' }, 'circuit breaker isolated by an operator');
    return Promise.resolve({ dependency: req.dependency, circuitState: breaker.breakerState() });
  };

  return { resetCircuitBreaker, isolateCircuitBreaker };
}
