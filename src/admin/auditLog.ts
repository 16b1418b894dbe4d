import type { Logger } from 'pino';
import type { Caller } from './caller';

/** One audited admin call. */
export interface AuditEntry {
  /** What was asked, e.g. "isolate", "reset", "list", "isolation-expired". */
  readonly action: string;
  /** What it applied to (a dependency name), when known to this service. */
  readonly target: string | undefined;
  /** ok: done; denied: no or wrong token; failed: refused (invalid, not found). */
  readonly outcome: 'ok' | 'denied' | 'failed';
  /** Undefined for what the service does by itself (an isolation that expired). */
  readonly caller: Caller | undefined;
  readonly before?: string;
  readonly after?: string;
  /** Action details (expiry, reason, error reason). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Where audit entries are counted (coaching_admin_actions_total). */
export type AuditCounter = (labels: { action: string; target: string; outcome: string; fromState: string; toState: string }) => void;

/**
 * Writes every admin call as one log line with `audit: true` (who, what,
 * state before and after) and counts it. Warn level: operator actions change
 * how the service behaves, so they are kept wherever logs are kept.
 */
export function createAuditLog(deps: { logger: Logger; count: AuditCounter }) {
  return (entry: AuditEntry): void => {
    const who =
      entry.caller === undefined
        ? { by: 'service' }
        : { peer: entry.caller.peer, certificateSubject: entry.caller.certificateSubject ?? null, tokenPresented: entry.caller.tokenPresented };
    deps.logger.warn(
      {
        audit: true,
        action: entry.action,
        target: entry.target ?? null,
        outcome: entry.outcome,
        ...who,
        before: entry.before,
        after: entry.after,
        ...entry.details,
      },
      `admin ${entry.action} ${entry.outcome}${entry.target === undefined ? '' : ` on ${entry.target}`}`,
    );
    deps.count({ action: entry.action, target: entry.target ?? 'none', outcome: entry.outcome, fromState: entry.before ?? '', toState: entry.after ?? '' });
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
