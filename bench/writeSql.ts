/**
 * The service's CompleteSession transaction as SQL, for the outbox A/B
 * (`raw-pg` and `raw-pg-no-outbox` of CompleteSession): the same statements,
 * in the same order, with the same locks and named (prepared) statements as
 * the service sends them, once with its outbox insert (two events, numbered
 * at commit by migration 0005's deferred trigger, in one statement with the
 * idempotent response) and once without (the response alone, as the service
 * sends it for a write without events). Same round trips, everything else
 * equal, so 1 − with ÷ without is what the outbox writes cost the database
 * side of a completion.
 *
 * Captured at the pg driver (test/support/recordingDriver.ts) while the
 * service completed a session (6 statements, main at cf931d8), whitespace
 * folded. When the service's write transaction changes, capture it again
 * the same way and update this one file (BENCHMARKS.md, "Method", says how).
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';

const SESSION_COLUMNS = [
  'id',
  'program_id',
  'coach_id',
  'participant_id',
  'scheduled_start',
  'duration_minutes',
  'status',
  'notes',
  'completed_time',
  'create_time',
  'update_time',
  'version',
];
const ENROLLMENT_COLUMNS = [
  'id',
  'participant_id',
  'program_id',
  'status',
  'completed_sessions',
  'progress_percent',
  'last_activity_time',
  'create_time',
  'update_time',
  'version',
];

/** `"a"."id"` for each column, as slonik renders `table.columns('a')`. */
const qualified = (alias: string, columns: readonly string[]) => columns.map((c) => `"${alias}"."${c}"`).join(', ');
/** The session's columns as `session_<name>`, as `sessionRepository.beside` returns them beside an enrollment. */
const beside = (alias: string | undefined) => SESSION_COLUMNS.map((c) => `${alias === undefined ? '' : `"${alias}".`}"${c}" as "session_${c}"`).join(', ');

const OUTBOX_INSERT = `insert into outbox (id, type, subject, time, trace_id, data) select r.id, r.type, r.subject, now(), r.trace_id, r.data from rows from (jsonb_to_recordset($3::jsonb) as (id uuid, type text, subject text, trace_id text, data jsonb)) with ordinality as r(id, type, subject, trace_id, data, n) order by r.n`;
const STORE_RESPONSE = 'update idempotency_keys set response = $1::jsonb where request_id = $2';

const STATEMENTS = {
  claim: `insert into idempotency_keys (request_id, operation, request_hash, response) values ($1, $2, $3, 'null'::jsonb) on conflict (request_id) do nothing returning request_id`,
  /** Coach and participant FOR SHARE, then the enrollment and the session FOR UPDATE, in one statement (the lock order); returns both. */
  lockProgress: `select ${qualified('e', ENROLLMENT_COLUMNS)}, e.total_sessions, ${beside('s')} from sessions s join profiles first_person on first_person.id = least(s.coach_id, s.participant_id) join profiles second_person on second_person.id = greatest(s.coach_id, s.participant_id) join enrollments e on (e.participant_id, e.program_id) = (s.participant_id, s.program_id) where s.id = $1 for share of first_person, second_person for update of e for update of s`,
  /** The session's completion and the enrollment's count in one statement. */
  complete: `with completed as ( update "sessions" set update_time = now(), version = version + 1, status = 'COMPLETED', completed_time = now() where id = $1 and version = $2 and status = 'SCHEDULED' returning ${beside(undefined)}) update enrollments e set completed_sessions = completed_sessions + 1, progress_percent = (completed_sessions + 1) * 100 / total_sessions, status = case when completed_sessions + 1 >= total_sessions and status = 'ACTIVE' then 'COMPLETED' else status end, last_activity_time = now(), update_time = now(), version = version + 1 from completed where e.id = $3 returning ${qualified('e', ENROLLMENT_COLUMNS)}, completed.*`,
  /** The events, numbered at commit by the deferred trigger of migration 0005, in one statement with the idempotent response. */
  outboxWithResponse: `with alongside as (${STORE_RESPONSE}) ${OUTBOX_INSERT}`,
  /** What the service sends when a write has no events: the response alone. */
  response: STORE_RESPONSE,
} as const;

const named = (name: keyof typeof STATEMENTS, values: unknown[]) => ({ name: `bench_${name}`, text: STATEMENTS[name], values });

/** Completes one SCHEDULED session (version 1) in one transaction, with or without the outbox statements; throws when it did not complete. */
export async function completeSessionTransaction(client: PoolClient, sessionId: string, withOutbox: boolean): Promise<void> {
  const requestId = randomUUID();
  await client.query('START TRANSACTION');
  try {
    await client.query(named('claim', [requestId, 'CompleteSession', requestId.replaceAll('-', '').repeat(2)]));
    const progress = await client.query<{ id: string }>(named('lockProgress', [sessionId]));
    const enrollmentId = progress.rows[0]!.id;
    const completed = await client.query<Record<string, unknown>>(named('complete', [sessionId, 1, enrollmentId]));
    if (completed.rowCount !== 1) throw new Error(`session ${sessionId} was not SCHEDULED at version 1`);
    const row = completed.rows[0]!;
    const changed = {
      session: Object.fromEntries(SESSION_COLUMNS.map((c) => [c, row[`session_${c}`]])),
      enrollment: Object.fromEntries(ENROLLMENT_COLUMNS.map((c) => [c, row[c]])),
    };
    if (withOutbox) {
      const traceId = randomUUID();
      const events = [
        {
          id: randomUUID(),
          type: 'coaching.events.v1.SessionCompleted',
          subject: sessionId,
          trace_id: traceId,
          data: { session: changed.session, changedFields: 'status,completedTime' },
        },
        {
          id: randomUUID(),
          type: 'coaching.events.v1.EnrollmentUpdated',
          subject: enrollmentId,
          trace_id: traceId,
          data: { enrollment: changed.enrollment, changedFields: 'completedSessions,progressPercent,lastActivityTime' },
        },
      ];
      await client.query(named('outboxWithResponse', [JSON.stringify(changed), requestId, JSON.stringify(events)]));
    } else {
      await client.query(named('response', [JSON.stringify(changed), requestId]));
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
