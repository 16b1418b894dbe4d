import { randomUUID } from 'node:crypto';
import { SessionStatus } from '../../src/generated/coaching/v1/session';
import type { LoadContext } from '../loadgen/LoadContext';
import { LIST_SESSIONS_SQL } from '../sql';
import { benchId, coachOfProgram, enrollmentCount, participantOf, programOfEnrollment, scheduledSession } from '../volume';
import type { OperationFactory, Workload } from './Workload';
import { rawQuery } from './rawQuery';
import { timestampOf } from '../../src/grpc/timestamps';
import { completeSessionTransaction } from '../writeSql';

/** New sessions are booked from here on, one hour per slot, so no two bookings overlap. */
const CREATE_EPOCH = Date.UTC(2100, 0, 1);
const HOUR = 3_600_000;

const randomCoach = (context: LoadContext): string => benchId('profile', context.random(context.spec.volume.coaches));

/** The first page (50) of a random coach's SCHEDULED sessions. */
export const listSessionsRpc: OperationFactory = (context) => {
  const client = context.coaching();
  const method = client.listSessions.bind(client);
  return () =>
    context.unary(method, {
      pageSize: 50,
      pageToken: '',
      programId: '',
      coachId: randomCoach(context),
      participantId: '',
      status: SessionStatus.SESSION_STATUS_SCHEDULED,
      scheduledStartFrom: undefined,
      scheduledStartUntil: undefined,
    });
};

/** Books a 45-minute session for a random enrollment in a slot of its own, with a request_id. */
export const createSessionRpc: OperationFactory = (context) => {
  const client = context.coaching();
  const method = client.createSession.bind(client);
  const v = context.spec.volume;
  return () => {
    const enrollment = context.random(enrollmentCount(v));
    const program = programOfEnrollment(v, enrollment);
    return context.unary(method, {
      requestId: randomUUID(),
      session: {
        id: '',
        programId: benchId('program', program),
        coachId: benchId('profile', coachOfProgram(v, program)),
        participantId: benchId('profile', participantOf(v, enrollment)),
        scheduledStart: timestampOf(new Date(CREATE_EPOCH + context.nextSlot() * HOUR)),
        durationMinutes: 45,
        status: SessionStatus.SESSION_STATUS_UNSPECIFIED,
        notes: '',
        completedTime: undefined,
        createTime: undefined,
        updateTime: undefined,
        etag: '',
      },
    });
  };
};

/** Completes the run's next seeded SCHEDULED session (etag "v1"), with a request_id: the multi-table transaction. */
export const completeSessionRpc: OperationFactory = (context) => {
  const client = context.coaching();
  const method = client.completeSession.bind(client);
  return () => {
    const k = context.nextCompletion();
    if (k === undefined) return Promise.reject(new Error('no SCHEDULED sessions left to complete: raise --scale'));
    return context.unary(method, { id: benchId('session', scheduledSession(context.spec.volume, k)), etag: '"v1"', requestId: randomUUID(), notes: '' });
  };
};

/** The service's CompleteSession transaction straight through `pg` (bench/writeSql.ts), with or without the outbox statements. */
const completeSessionRaw =
  (withOutbox: boolean): OperationFactory =>
  (context) => {
    const pool = context.pool();
    return async () => {
      const k = context.nextCompletion();
      if (k === undefined) throw new Error('no SCHEDULED sessions left to complete: raise --scale');
      const client = await pool.connect();
      try {
        await completeSessionTransaction(client, benchId('session', scheduledSession(context.spec.volume, k)), withOutbox);
      } finally {
        client.release();
      }
    };
  };

/** Progress of a random enrollment. */
export const getProgramProgressRpc: OperationFactory = (context) => {
  const client = context.coaching();
  const method = client.getProgramProgress.bind(client);
  const v = context.spec.volume;
  return () => {
    const enrollment = context.random(enrollmentCount(v));
    return context.unary(method, {
      participantId: benchId('profile', participantOf(v, enrollment)),
      programId: benchId('program', programOfEnrollment(v, enrollment)),
    });
  };
};

const listSessionsValues = (context: LoadContext): unknown[] => [randomCoach(context), 'SCHEDULED', 51];

export const listSessions: Workload = {
  name: 'ListSessions',
  description: "first page of 50 of a random coach's SCHEDULED sessions",
  targets: {
    service: listSessionsRpc,
    bare: listSessionsRpc,
    'raw-pg': rawQuery('list_sessions', LIST_SESSIONS_SQL, listSessionsValues, false),
    'raw-pg-prepared': rawQuery('list_sessions', LIST_SESSIONS_SQL, listSessionsValues, true),
  },
};

export const createSession: Workload = {
  name: 'CreateSession',
  description: 'books a session (insert, overlap exclusion constraints, idempotency key)',
  targets: { service: createSessionRpc },
  writes: true,
};

export const completeSession: Workload = {
  name: 'CompleteSession',
  description: 'completes a SCHEDULED session and updates its enrollment in one transaction',
  targets: { service: completeSessionRpc, 'raw-pg': completeSessionRaw(true), 'raw-pg-no-outbox': completeSessionRaw(false) },
  onlyAt: { 'raw-pg': [16], 'raw-pg-no-outbox': [16] },
  writes: true,
};

export const getProgramProgress: Workload = {
  name: 'GetProgramProgress',
  description: "a participant's progress in a program (one consistent snapshot)",
  targets: { service: getProgramProgressRpc },
};
