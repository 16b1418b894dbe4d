import { UnimplementedError } from '../../domain/errors';
import type { UnaryHandler } from '../wrapUnary';

/**
 * The deprecated coaching.health.v1 operator RPCs on the public port: they
 * answer UNIMPLEMENTED (reason MOVED_TO_ADMIN_LISTENER) and say where the
 * action went, so that anyone who reaches the public port cannot take the
 * service out of rotation.
 */
export function movedToAdminListener(method: 'ResetCircuitBreaker' | 'IsolateCircuitBreaker'): UnaryHandler<unknown, never> {
  return () =>
    Promise.reject(
      new UnimplementedError(
        'MOVED_TO_ADMIN_LISTENER',
        `${method} is not served on this port: call coaching.admin.v1.AdminService/${method} on the admin listener (ADMIN_GRPC_HOST:ADMIN_GRPC_PORT, default 127.0.0.1:50052)`,
      ),
    );
}
