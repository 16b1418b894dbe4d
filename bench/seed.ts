import type { Client } from 'pg';
import { enrollmentCount, sessionCount, sqlBenchId, type Volume } from './volume';

/** What was seeded: row counts by table (tables that do not exist yet are absent). */
export type SeedSummary = Record<string, number>;

async function tableExists(client: Client, name: string): Promise<boolean> {
  const result = await client.query<{ exists: boolean }>('select to_regclass($1) is not null as exists', [name]);
  return result.rows[0]?.exists === true;
}

/**
 * Fills a freshly migrated database with the bench volume in a few set-based
 * statements (generate_series), not through the API: seeding is not what is
 * measured. Ids follow {@link sqlBenchId}. Programs, enrollments and sessions
 * are seeded only when their tables exist (the sessions API landed later).
 */
export async function seed(client: Client, v: Volume): Promise<SeedSummary> {
  const summary: SeedSummary = {};
  const count = async (label: string, text: string): Promise<void> => {
    const result = await client.query(text);
    summary[label] = result.rowCount ?? 0;
  };

  await count(
    'profiles',
    `insert into profiles (id, role, email, display_name, timezone, bio, create_time, update_time)
     select ${sqlBenchId('profile', 'n')},
            case when n < ${v.coaches} then 'COACH' else 'PARTICIPANT' end,
            'bench-' || n || '@example.com',
            'Bench Person ' || n,
            (array['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + n % 4],
            repeat('Coaching bio. ', n % 20),
            now() - make_interval(secs => ${v.profiles} - n),
            now() - make_interval(secs => ${v.profiles} - n)
     from generate_series(0, ${v.profiles - 1}) as n`,
  );

  if (!(await tableExists(client, 'sessions'))) return summary;

  const t = v.sessionsPerEnrollment;
  await count(
    'programs',
    `insert into programs (id, coach_id, title, description, status, total_sessions, create_time, update_time)
     select ${sqlBenchId('program', 'p')}, ${sqlBenchId('profile', `p % ${v.coaches}`)},
            'Program ' || p, 'A programme of the bench data set.', 'ACTIVE', ${t},
            now() - make_interval(secs => ${v.programs} - p), now() - make_interval(secs => ${v.programs} - p)
     from generate_series(0, ${v.programs - 1}) as p`,
  );
  await count(
    'enrollments',
    `insert into enrollments (id, participant_id, program_id, status, completed_sessions, total_sessions, progress_percent, last_activity_time)
     select ${sqlBenchId('enrollment', 'e')}, ${sqlBenchId('profile', `${v.coaches} + e`)},
            ${sqlBenchId('program', `e / ${v.enrollmentsPerProgram}`)}, 'ACTIVE',
            ${v.completedPerEnrollment}, ${t}, ${Math.floor((v.completedPerEnrollment * 100) / t)}, now()
     from generate_series(0, ${enrollmentCount(v) - 1}) as e`,
  );
  // A coach runs programs c, c + coaches, …; each of the coach's sessions gets its own hourly slot.
  await count(
    'sessions',
    `insert into sessions (id, program_id, coach_id, participant_id, scheduled_start, duration_minutes, status, notes, completed_time)
     select ${sqlBenchId('session', 's')}, ${sqlBenchId('program', 'p')}, ${sqlBenchId('profile', `p % ${v.coaches}`)},
            ${sqlBenchId('profile', `${v.coaches} + e`)},
            date_trunc('hour', now()) + interval '1 day'
              + make_interval(hours => ((p / ${v.coaches}) * ${v.enrollmentsPerProgram} + e % ${v.enrollmentsPerProgram}) * ${t} + k),
            45,
            case when k < ${v.completedPerEnrollment} then 'COMPLETED' else 'SCHEDULED' end,
            '',
            case when k < ${v.completedPerEnrollment} then now() end
     from (select s, s / ${t} as e, s % ${t} as k, (s / ${t}) / ${v.enrollmentsPerProgram} as p
           from generate_series(0, ${sessionCount(v) - 1}) as s) as g`,
  );
  return summary;
}
