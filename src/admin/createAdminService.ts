import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { DomainError, NotFoundError, UnauthenticatedError, type FieldViolation } from '../domain/errors';
import { instantToWire } from '../domain/instants';
import { AdminServiceService, CircuitState, type AdminServiceServer, type CircuitBreaker } from '../generated/coaching/admin/v1/admin_service';
import type { ServiceRegistration } from '../grpc/ServiceRegistration';
import { methodName } from '../grpc/wrapService';
import type { CallContext, UnaryWrapper } from '../grpc/wrapUnary';
import type { AdminHandler, Done } from './AdminHandler';
import { assertValid, dependencyOf, endpointOf, expiryOf, reasonOf } from './adminRequests';
import type { AdminToken } from './AdminToken';
import type { AuditEntry, AuditLog } from './auditLog';
import { callerOf, type Caller } from './caller';
import { isUndecodable } from '../grpc/requestDecoding';
import type { BreakerChange, BreakerView, CircuitBreakerOperator } from './CircuitBreakerOperator';
import type { DeadLetters } from '../events/createDeadLetters';
import { deadLetterHandlers } from './deadLetterHandlers';

export const ADMIN_SERVICE_NAME = 'coaching.admin.v1.AdminService';

const STATES: Readonly<Record<string, CircuitState>> = {
  closed: CircuitState.CIRCUIT_STATE_CLOSED,
  open: CircuitState.CIRCUIT_STATE_OPEN,
  'half-open': CircuitState.CIRCUIT_STATE_HALF_OPEN,
  isolated: CircuitState.CIRCUIT_STATE_ISOLATED,
};
const stateOf = (state: string): CircuitState => STATES[state] ?? CircuitState.CIRCUIT_STATE_UNSPECIFIED;

function breakerToProto(view: BreakerView): CircuitBreaker {
  return {
    dependency: view.dependency,
    state: stateOf(view.state),
    isolateTime: view.isolation === undefined ? undefined : instantToWire(view.isolation.since),
    expireTime: view.isolation?.until === undefined ? undefined : instantToWire(view.isolation.until),
    isolationReason: view.isolation?.reason ?? '',
  };
}

/** The response and audit of an action that changed a breaker. */
function changed(
  dependency: string,
  change: BreakerChange,
  details: Readonly<Record<string, unknown>>,
): Done<{ circuitBreaker: CircuitBreaker; previousState: CircuitState }> {
  return {
    response: { circuitBreaker: breakerToProto(change.after), previousState: stateOf(change.before.state) },
    audit: { target: dependency, before: change.before.state, after: change.after.state, details },
  };
}

/** The database endpoints an operator may act on (several DB_HOST entries); src/app/startDatabaseEndpoints.ts. */
export interface DatabaseEndpointOperator {
  views(): readonly { readonly key: string; readonly role: string }[];
  generation(): number;
  /** Makes `key` the primary; false when it is not a configured endpoint. */
  choosePrimary(key: string): boolean;
}

export interface AdminServiceDeps {
  readonly operator: CircuitBreakerOperator;
  readonly endpoints?: DatabaseEndpointOperator;
  /** The event stream's dead letters; undefined without REDIS_URL. */
  readonly deadLetters: DeadLetters | undefined;
  readonly token: AdminToken;
  readonly audit: AuditLog;
  /** The unary wrapper (correlation id, call log, metrics, error mapping). */
  readonly wrap: UnaryWrapper;
}

/**
 * coaching.admin.v1.AdminService. Every call is authorised (the admin token,
 * when one is configured) and audited, refusals included: who, what, the
 * state before and after. Handlers validate, act through the operator, map.
 */
export function createAdminService(deps: AdminServiceDeps): ServiceRegistration {
  const { operator, token, audit } = deps;
  const endpointsResponse = () => ({
    endpoints: (deps.endpoints?.views() ?? []).map((v) => ({ endpoint: v.key, role: v.role })),
    generation: String(deps.endpoints?.generation() ?? 0),
  });

  /** Authorises, runs and audits one call; the caller is read from the call itself (peer, certificate, token). */
  const guarded = <Req, Res>(
    method: string,
    action: string,
    target: (request: Req) => string,
    handler: AdminHandler<Req, Res>,
    // Which request targets may be logged: by default, the names of known breakers.
    loggable: (name: string) => string | undefined = (name) => (operator.has(name) ? name : undefined),
  ): handleUnaryCall<Req, Res> => {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const { caller, token: presented } = callerOf(call);
      if (isUndecodable(call.request)) {
        // Refused by the wrapper before any handler runs (INVALID_ARGUMENT), but audited like any other attempt.
        const authorised = token.accepts(presented);
        audit({
          action,
          target: undefined,
          outcome: authorised ? 'failed' : 'denied',
          caller,
          details: {
            errorReason: 'INVALID_ARGUMENT',
            refusal: authorised ? 'the request did not decode' : `the request did not decode; ${tokenRefusal(caller)}`,
          },
        });
        deps.wrap(method, () => Promise.reject(new Error('unreachable: the wrapper refuses undecodable requests first')))(call, callback);
        return;
      }
      const known = (request: Req): string | undefined => loggable(target(request));
      const run = async (request: Req, context: CallContext): Promise<Res> => {
        if (!token.accepts(presented)) {
          audit({ action, target: known(request), outcome: 'denied', caller, details: { errorReason: 'UNAUTHENTICATED', refusal: tokenRefusal(caller) } });
          throw new UnauthenticatedError(
            caller.tokenPresented ? 'the admin token is not the one configured' : 'this listener requires an admin token: send "authorization: Bearer <token>"',
          );
        }
        try {
          const done = await handler(request, context);
          audit({ action, outcome: 'ok', caller, ...done.audit });
          return done.response;
        } catch (error) {
          audit({
            action,
            target: known(request),
            outcome: 'failed',
            caller,
            details: { errorReason: error instanceof DomainError ? error.reason : 'INTERNAL' },
          });
          throw error;
        }
      };
      deps.wrap(method, run)(call, callback);
    };
  };

  const implementation: AdminServiceServer = {
    listCircuitBreakers: guarded(
      methodName(AdminServiceService.listCircuitBreakers),
      'list',
      () => '',
      () => ({
        response: { circuitBreakers: operator.list().map(breakerToProto) },
        audit: { target: undefined },
      }),
    ),
    resetCircuitBreaker: guarded(
      methodName(AdminServiceService.resetCircuitBreaker),
      'reset',
      (r) => r.dependency,
      (request) => {
        const violations: FieldViolation[] = [];
        const dependency = dependencyOf(request.dependency, violations);
        const reason = reasonOf(request.reason, violations);
        assertValid(violations);
        return changed(dependency, operator.reset(dependency), { reason });
      },
    ),
    isolateCircuitBreaker: guarded(
      methodName(AdminServiceService.isolateCircuitBreaker),
      'isolate',
      (r) => r.dependency,
      (request) => {
        const violations: FieldViolation[] = [];
        const dependency = dependencyOf(request.dependency, violations);
        const reason = reasonOf(request.reason, violations);
        const until = expiryOf(request, Date.now(), violations);
        assertValid(violations);
        const change = operator.isolate(dependency, { ...(until !== undefined && { until }), reason });
        return changed(dependency, change, { reason, expireTime: until?.toISOString() ?? null });
      },
    ),
    listDatabaseEndpoints: guarded(
      'ListDatabaseEndpoints',
      'list-database-endpoints',
      () => '',
      () => ({ response: endpointsResponse(), audit: { target: undefined } }),
    ),
    chooseDatabasePrimary: guarded(
      'ChooseDatabasePrimary',
      'choose-database-primary',
      (r) => r.endpoint,
      (request) => {
        const violations: FieldViolation[] = [];
        const endpoint = endpointOf(request.endpoint, violations);
        const reason = reasonOf(request.reason, violations);
        assertValid(violations);
        const before = deps.endpoints?.views().find((v) => v.key === endpoint)?.role;
        if (deps.endpoints === undefined || !deps.endpoints.choosePrimary(endpoint)) throw new NotFoundError('database endpoint', endpoint);
        return {
          response: endpointsResponse(),
          audit: { target: endpoint, before, after: 'primary', details: { reason, generation: deps.endpoints.generation() } },
        };
      },
    ),
    ...deadLetterHandlers(deps.deadLetters, guarded),
  };
  return { name: ADMIN_SERVICE_NAME, definition: AdminServiceService, implementation };
}

/** Why a call's token was refused, for the audit (never the token itself). */
function tokenRefusal(caller: Caller): string {
  return caller.tokenPresented ? 'wrong admin token' : 'no admin token';
}

/** The audit entry of an isolation that ended by itself (no caller: the service did it). */
export function expiredIsolationEntry(dependency: string, before: string, after: string): AuditEntry {
  return { action: 'isolation-expired', target: dependency, outcome: 'ok', caller: undefined, before, after };
}
