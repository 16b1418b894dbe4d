import { HealthServiceService } from '../generated/coaching/health/v1/health_service';
import type { ServiceRegistration } from './ServiceRegistration';
import { createHealthHandlers, type HealthReader } from './handlers/healthHandlers';
import { movedToAdminListener } from './handlers/movedToAdminListener';
import { wrapService } from './wrapService';
import type { UnaryWrapper } from './wrapUnary';

export const HEALTH_SERVICE_NAME = 'coaching.health.v1.HealthService';

/** The coaching.health.v1.HealthService registration: cached health reads, and the operator RPCs that moved to the admin listener. */
export function createHealthApiService(health: HealthReader, wrap: UnaryWrapper): ServiceRegistration {
  const handlers = createHealthHandlers(health);
  const implementation = wrapService(
    HealthServiceService,
    {
      ...handlers,
      resetCircuitBreaker: movedToAdminListener('ResetCircuitBreaker'),
      isolateCircuitBreaker: movedToAdminListener('IsolateCircuitBreaker'),
    },
    wrap,
  );
  return { name: HEALTH_SERVICE_NAME, definition: HealthServiceService, implementation };
}
