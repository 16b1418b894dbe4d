import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import { createOutboxChangeLog } from '../events/createOutboxChangeLog';
import { createEventJobs, type EventJobs } from '../events/startEventJobs';
import { eventOf } from '../grpc/eventOf';
import type { RequestContext } from '../log/RequestContext';
import { activeTraceFields } from '../log/traceFields';
import type { ChangeLog } from '../services/changeLog';
import type { Metrics, StartupScope } from './ServiceDeps';

/**
 * The outbox ChangeLog the services write through: events as coaching.events.v1
 * protobuf JSON, tagged with the trace id of the request's trace (OpenTelemetry,
 * when tracing is on) or else its correlation id.
 */
export function outboxChangeLog(requestContext?: RequestContext): ChangeLog {
  return createOutboxChangeLog({ encode: eventOf, traceId: () => activeTraceFields()?.trace_id ?? requestContext?.correlationId() });
}

export interface Events {
  /** Where writes append their events (the transactional outbox). */
  readonly changes: ChangeLog;
  /** Relay, dead-letter sweeper, retention, backlog metrics; started once serving, stopped on drain. */
  readonly jobs: EventJobs;
}

/** Domain events (README "Events"): the outbox for the services, and the background jobs with their `redis` health check and dead letters. */
export function createEvents(
  config: Config,
  parts: { db: DatabaseGateway; logger: Logger; metrics: Metrics; requestContext: RequestContext | undefined },
  scope: StartupScope,
): Events {
  const jobs = createEventJobs({
    config: config.events,
    db: parts.db,
    logger: parts.logger,
    metrics: parts.metrics.events,
    probe: { intervalMs: config.db.healthCheckIntervalMs, timeoutMs: config.db.pingTimeoutMs },
  });
  scope.defer(() => jobs.stop());
  return { changes: outboxChangeLog(parts.requestContext), jobs };
}
