import { outboxChangeLog } from '../src/app/events';
import pino from 'pino';
import type { DatabasePool } from 'slonik';
import { createDatabasePool } from '../src/db/createDatabasePool';
import { seedDevelopmentData } from '../src/seed/seedDevelopmentData';
import { gatewayOnPool } from '../src/db/gatewayOnPool';
import { useHarness } from './support/harness';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';

let db: TestDatabase;
let pool: DatabasePool;
const logger = pino({ level: 'silent' });

const h = useHarness({
  service: false,
  setup: async () => {
    pool = await createDatabasePool(h.db.config().db);
  },
  teardown: () => pool.end(),
});
beforeAll(() => ({ db } = h));

/** Every row of every table the seed writes, in a stable order. */
async function snapshot() {
  const tables = ['profiles', 'programs', 'enrollments', 'sessions', 'idempotency_keys'];
  return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await db.query(`select * from ${t} order by 1`)] as const)));
}

describe('npm run db:seed (seedDevelopmentData)', () => {
  it('builds a small world with every status and real progress', async () => {
    await seedDevelopmentData(gatewayOnPool(pool, db.config(), logger), logger, outboxChangeLog());
    const statuses = async (table: string) => (await db.query<{ status: string }>(`select distinct status from ${table} order by 1`)).map((r) => r.status);
    expect(await statuses('programs')).toEqual(['ACTIVE', 'ARCHIVED', 'DRAFT']);
    expect(await statuses('enrollments')).toEqual(['ACTIVE', 'COMPLETED', 'WITHDRAWN']);
    expect(await statuses('sessions')).toEqual(['CANCELLED', 'COMPLETED', 'NO_SHOW', 'SCHEDULED']);
    const roles = await db.query(`select role, count(*)::int as n from profiles group by role order by role`);
    expect(roles).toEqual([
      { role: 'COACH', n: 2 },
      { role: 'PARTICIPANT', n: 4 },
    ]);
    // Progress agrees with the completed sessions of each enrollment.
    const progress = await db.query(`
      select e.status, e.completed_sessions, e.progress_percent, p.total_sessions,
             (select count(*)::int from sessions s where s.participant_id = e.participant_id and s.program_id = e.program_id and s.status = 'COMPLETED') as done
      from enrollments e join programs p on p.id = e.program_id order by e.create_time`);
    for (const row of progress as { status: string; completed_sessions: number; progress_percent: number; total_sessions: number; done: number }[]) {
      expect(row.completed_sessions).toBe(row.done);
      expect(row.progress_percent).toBe(Math.floor((100 * row.done) / row.total_sessions));
      if (row.status !== 'WITHDRAWN') expect(row.status === 'COMPLETED').toBe(row.done >= row.total_sessions);
    }
    expect(progress.map((r) => (r as { progress_percent: number }).progress_percent)).toEqual([50, 0, 100, 0, 100]);
  });

  it('is idempotent: a second run leaves every row as it was', async () => {
    const before = await snapshot();
    await seedDevelopmentData(gatewayOnPool(pool, db.config(), logger), logger, outboxChangeLog());
    expect(await snapshot()).toEqual(before);
  });

  it('keeps profiles that already exist by email (seeded before request_ids were used)', async () => {
    const other = await createTestDatabase();
    const otherPool = await createDatabasePool(other.config().db);
    try {
      await other.query(`insert into profiles (role, email, display_name, timezone) values ('COACH', 'ADA.coach@example.com', 'Ada (old)', 'UTC')`);
      await seedDevelopmentData(gatewayOnPool(otherPool, other.config(), logger), logger, outboxChangeLog());
      expect(await other.query(`select display_name from profiles where lower(email) = 'ada.coach@example.com'`)).toEqual([{ display_name: 'Ada (old)' }]);
      expect(await other.query(`select count(*)::int as n from programs`)).toEqual([{ n: 4 }]);
    } finally {
      await otherPool.end();
      await other.drop();
    }
  });
});
