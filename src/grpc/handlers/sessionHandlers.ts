import type {
  CompleteSessionRequest,
  CompleteSessionResponse,
  CreateSessionRequest,
  CreateSessionResponse,
  DeleteSessionRequest,
  DeleteSessionResponse,
  GetSessionRequest,
  GetSessionResponse,
  ListSessionsRequest,
  ListSessionsResponse,
  UpdateSessionRequest,
  UpdateSessionResponse,
} from '../../generated/coaching/v1/coaching_service';
import type { Session } from '../../generated/coaching/v1/session';
import type { FieldViolation } from '../../domain/errors';
import * as rules from '../../domain/rules';
import { SESSION_LIMITS, SESSION_UPDATABLE_PATHS, type NewSession, type SessionPatch } from '../../domain/session';
import type { SessionService } from '../../services/sessionService';
import { enrollmentToProto } from '../enrollmentMapper';
import { sessionStatus, sessionToProto } from '../sessionMapper';
import type { UnaryHandler } from '../wrapUnary';
import { pageSize } from './paging';
import {
  enumFilter,
  etagViolation,
  maskedPatch,
  optionalId,
  pageSizeViolation,
  pageTokenViolation,
  present,
  reject,
  requestIdOf,
  requestIdViolation,
} from './validation';

/** An update may set SCHEDULED, CANCELLED or NO_SHOW; COMPLETED is CompleteSession's. */
function settableStatus(session: Session) {
  const status = sessionStatus.fromProto(session.status);
  return status === 'COMPLETED' ? undefined : status;
}

function fieldRule(path: keyof typeof SESSION_UPDATABLE_PATHS, session: Session): FieldViolation | undefined {
  switch (path) {
    case 'scheduled_start':
      return rules.instant('session.scheduled_start', session.scheduledStart).violation;
    case 'duration_minutes':
      return rules.integer('session.duration_minutes', session.durationMinutes, SESSION_LIMITS.minDurationMinutes, SESSION_LIMITS.maxDurationMinutes);
    case 'status':
      return settableStatus(session) === undefined
        ? {
            field: 'session.status',
            description: 'must be SESSION_STATUS_SCHEDULED, SESSION_STATUS_CANCELLED or SESSION_STATUS_NO_SHOW (use CompleteSession to complete)',
          }
        : undefined;
    case 'notes':
      return rules.text('session.notes', session.notes, 0, SESSION_LIMITS.notes, 'free-form');
  }
}

function validNewSession(session: Session, requestId: string): NewSession {
  const start = rules.instant('session.scheduled_start', session.scheduledStart);
  reject([
    rules.uuid('session.program_id', session.programId),
    rules.uuid('session.coach_id', session.coachId),
    rules.uuid('session.participant_id', session.participantId),
    start.violation,
    fieldRule('duration_minutes', session),
    fieldRule('notes', session),
    requestIdViolation(requestId),
  ]);
  return {
    programId: session.programId.toLowerCase(),
    coachId: session.coachId.toLowerCase(),
    participantId: session.participantId.toLowerCase(),
    scheduledStart: start.date!,
    durationMinutes: session.durationMinutes,
    notes: session.notes,
  };
}

/** Request validation and proto mapping for the session RPCs and CompleteSession; the service does the rest. */
export function createSessionHandlers(service: SessionService) {
  const createSession: UnaryHandler<CreateSessionRequest, CreateSessionResponse> = async (req, ctx) => {
    const input = validNewSession(present('session', req.session), req.requestId);
    return { session: sessionToProto(await service.create(input, requestIdOf(req.requestId), ctx)) };
  };

  const getSession: UnaryHandler<GetSessionRequest, GetSessionResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id)]);
    return { session: sessionToProto(await service.get(req.id, ctx)) };
  };

  const listSessions: UnaryHandler<ListSessionsRequest, ListSessionsResponse> = async (req, ctx) => {
    const status = enumFilter('status', req.status, sessionStatus.fromProto, 'SessionStatus');
    const from = rules.optionalInstant('scheduled_start_from', req.scheduledStartFrom);
    const until = rules.optionalInstant('scheduled_start_until', req.scheduledStartUntil);
    reject([
      rules.optionalUuid('program_id', req.programId),
      rules.optionalUuid('coach_id', req.coachId),
      rules.optionalUuid('participant_id', req.participantId),
      status.violation,
      from.violation,
      until.violation,
      from.date !== undefined && until.date !== undefined && until.date.getTime() <= from.date.getTime()
        ? { field: 'scheduled_start_until', description: 'must be after scheduled_start_from' }
        : undefined,
      pageSizeViolation(req.pageSize),
      pageTokenViolation(req.pageToken),
    ]);
    const page = await service.list(
      {
        programId: optionalId(req.programId),
        coachId: optionalId(req.coachId),
        participantId: optionalId(req.participantId),
        status: status.value,
        from: from.date,
        until: until.date,
        pageSize: pageSize(req.pageSize),
        pageToken: req.pageToken,
      },
      ctx,
    );
    return { sessions: page.items.map(sessionToProto), nextPageToken: page.nextPageToken };
  };

  const updateSession: UnaryHandler<UpdateSessionRequest, UpdateSessionResponse> = async (req, ctx) => {
    const session = present('session', req.session);
    const { violations, patch } = maskedPatch<typeof SESSION_UPDATABLE_PATHS, SessionPatch>(
      req.updateMask ?? [],
      SESSION_UPDATABLE_PATHS,
      (path) => fieldRule(path, session),
      (key) =>
        key === 'status'
          ? settableStatus(session)
          : key === 'scheduledStart'
            ? rules.instant('session.scheduled_start', session.scheduledStart).date
            : session[key],
    );
    reject([rules.uuid('session.id', session.id), etagViolation('session.etag', session.etag), ...violations]);
    return { session: sessionToProto(await service.update(session.id, session.etag, patch, ctx)) };
  };

  const deleteSession: UnaryHandler<DeleteSessionRequest, DeleteSessionResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id), etagViolation('etag', req.etag)]);
    await service.delete(req.id, req.etag, ctx);
    return {};
  };

  const completeSession: UnaryHandler<CompleteSessionRequest, CompleteSessionResponse> = async (req, ctx) => {
    reject([
      rules.uuid('id', req.id),
      etagViolation('etag', req.etag),
      requestIdViolation(req.requestId),
      rules.text('notes', req.notes, 0, SESSION_LIMITS.notes, 'free-form'),
    ]);
    const done = await service.complete(req.id, req.etag, req.notes, requestIdOf(req.requestId), ctx);
    return { session: sessionToProto(done.session), enrollment: enrollmentToProto(done.enrollment) };
  };

  return { createSession, getSession, listSessions, updateSession, deleteSession, completeSession };
}
