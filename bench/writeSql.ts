/**
 * The service's CompleteSession transaction as SQL, for the outbox A/B
 * (`raw-pg` and `raw-pg-no-outbox` of CompleteSession): the same statements,
 * in the same order, with the same locks and named (prepared) statements as
 * the service sends them, once with the two outbox statements (counter row
 * `update ... returning`, then the `insert ... jsonb_to_recordset` of the two
 * events) and once without. Everything else is equal, so the throughput ratio
 * of the pair is what the outbox writes cost the database side of a completion.
 *
 * Captured from PostgreSQL's `log_statement = all` while the service completed
 * sessions (main at 1b4c753). When the service's write transaction changes,
 * capture it again the same way and update this one file (BENCHMARKS.md,
 * "Method", says how).
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';

const SESSION_RETURNING =
  '"id", "program_id", "coach_id", "participant_id", "scheduled_start", "duration_minutes", "status", "notes", "completed_time", "create_time", "update_time", "version"';
const ENROLLMENT_RETURNING =
  '"id", "participant_id", "program_id", "status", "completed_sessions", "progress_percent", "last_activity_time", "create_time", "update_time", "version"';

const STATEMENTS = {
  claim: `insert into idempotency_keys (request_id, operation, request_hash, response) values ($1, $2, $3, 'null'::jsonb) on conflict (request_id) do nothing returning request_id`,
  lockPeople: `select id from profiles where id in (select coach_id from sessions where id = $1 union all select participant_id from sessions where id = $2) order by id for share`,
  lockProgress: `select id, status, completed_sessions, total_sessions from enrollments where (participant_id, program_id) = (select participant_id, program_id from sessions where id = $1) for update`,
  lockSession: `select ${SESSION_RETURNING} from "sessions" where id = $1 for update`,
  complete: `update "sessions" set update_time = now(), version = version + 1, status = 'COMPLETED', completed_time = now() where id = $1 and version = $2 and status = 'SCHEDULED' returning ${SESSION_RETURNING}`,
  enrollment: `select ${ENROLLMENT_RETURNING} from "enrollments" where id = $1`,
  recordCompletion: `update enrollments set completed_sessions = completed_sessions + 1, progress_percent = (completed_sessions + 1) * 100 / total_sessions, status = case when completed_sessions + 1 >= total_sessions and status = 'ACTIVE' then 'COMPLETED' else status end, last_activity_time = now(), update_time = now(), version = version + 1 where id = $1 returning ${ENROLLMENT_RETURNING}`,
  outboxCounter: `update outbox_counters set value = value + $1 where name = 'sequence' returning value::text as value`,
  outboxInsert: `insert into outbox (sequence, id, type, subject, time, trace_id, data) select r.sequence, r.id, r.type, r.subject, now(), r.trace_id, r.data from jsonb_to_recordset($1::jsonb) as r(sequence bigint, id uuid, type text, subject text, trace_id text, data jsonb) order by r.sequence`,
  result: `update idempotency_keys set response = $1::jsonb where request_id = $2`,
} as const;

const named = (name: keyof typeof STATEMENTS, values: unknown[]) => ({ name: `bench_${name}`, text: STATEMENTS[name], values });

/** Completes one SCHEDULED session (version 1) in one transaction, with or without the outbox statements; throws when it did not complete. */
export async function completeSessionTransaction(client: PoolClient, sessionId: string, withOutbox: boolean): Promise<void> {
  const requestId = randomUUID();
  await client.query('START TRANSACTION');
  try {
    await client.query(named('claim', [requestId, 'CompleteSession', requestId.replaceAll('-', '').repeat(2)]));
    await client.query(named('lockPeople', [sessionId, sessionId]));
    const progress = await client.query<{ id: string }>(named('lockProgress', [sessionId]));
    await client.query(named('lockSession', [sessionId]));
    const session = await client.query(named('complete', [sessionId, 1]));
    if (session.rowCount !== 1) throw new Error(`session ${sessionId} was not SCHEDULED at version 1`);
    const enrollmentId = progress.rows[0]!.id;
    await client.query(named('enrollment', [enrollmentId]));
    const enrollment = await client.query(named('recordCompletion', [enrollmentId]));
    const changed = { session: session.rows[0] as unknown, enrollment: enrollment.rows[0] as unknown };
    if (withOutbox) {
      const last = BigInt((await client.query<{ value: string }>(named('outboxCounter', [2]))).rows[0]!.value);
      const traceId = randomUUID();
      const events = [
        {
          sequence: String(last - 1n),
          id: randomUUID(),
          type: 'coaching.events.v1.SessionCompleted',
          subject: sessionId,
          trace_id: traceId,
          data: { session: changed.session, changedFields: 'status,completedTime' },
        },
        {
          sequence: String(last),
          id: randomUUID(),
          type: 'coaching.events.v1.EnrollmentUpdated',
          subject: enrollmentId,
          trace_id: traceId,
          data: { enrollment: changed.enrollment, changedFields: 'completedSessions,progressPercent,lastActivityTime' },
        },
      ];
      await client.query(named('outboxInsert', [JSON.stringify(events)]));
    }
    await client.query(named('result', [JSON.stringify(changed), requestId]));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
