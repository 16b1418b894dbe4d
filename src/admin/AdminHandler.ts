import type { CallContext } from '../grpc/wrapUnary';
import type { AuditEntry } from './auditLog';

/** What an audited action reports besides its response. */
export interface Done<Res> {
  readonly response: Res;
  readonly audit: Omit<AuditEntry, 'caller' | 'outcome' | 'action'>;
}

/** One admin action: validates, acts, and says what to audit. */
export type AdminHandler<Req, Res> = (request: Req, context: CallContext) => Done<Res> | Promise<Done<Res>>;
