/**
 * Row validation (src/db/resultParserInterceptor.ts) on a real pool: rows of
 * `sql.type(schema)` queries are checked synchronously, a malformed row is a
 * SchemaValidationError naming the issue, and a schema that could only
 * validate asynchronously is refused rather than let through.
 */
import { SchemaValidationError } from '@slonik/errors';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createDatabasePool } from '../src/db/createDatabasePool';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';

const row = z.object({ id: z.string(), n: z.number(), at: z.number().nullable() });

let db: TestDatabase;
let pool: DatabasePool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = await createDatabasePool(db.config({ DB_MAX_CONNECTIONS: '1', DB_MAX_IDLE_CONNECTIONS: '1' }).db);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe('rows of sql.type queries', () => {
  it('are returned as the schema parses them (unknown columns stripped, timestamptz as epoch milliseconds)', async () => {
    const rows = await pool.any(
      sql.type(row)`select v::text as id, v as n, case when v = 2 then null else timestamptz '2024-05-01 12:00:00.5+00' end as at, 'extra' as extra
                    from generate_series(1, 3) as v order by v`,
    );
    expect(rows).toEqual([
      { id: '1', n: 1, at: Date.UTC(2024, 4, 1, 12, 0, 0, 500) },
      { id: '2', n: 2, at: null },
      { id: '3', n: 3, at: Date.UTC(2024, 4, 1, 12, 0, 0, 500) },
    ]);
  });

  it('that do not match the schema are refused with SchemaValidationError, whichever row is wrong', async () => {
    const error: unknown = await pool
      .any(sql.type(row)`select v::text as id, case when v = 150 then null else v end as n, null::timestamptz as at from generate_series(1, 200) as v`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaValidationError);
    const { issues, row: bad } = error as SchemaValidationError;
    expect(bad).toMatchObject({ id: '150', n: null });
    expect(issues).toEqual([expect.objectContaining({ path: ['n'] })]);

    const missing: unknown = await pool.one(sql.type(row)`select 'a' as id, 1 as n`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SchemaValidationError);
    expect((missing as SchemaValidationError).issues).toEqual([expect.objectContaining({ path: ['at'] })]);

    const infinite: unknown = await pool.one(sql.type(row)`select 'a' as id, 1 as n, timestamptz 'infinity' as at`).catch((e: unknown) => e);
    expect(infinite).toBeInstanceOf(SchemaValidationError);
  });

  it('of a schema that validates asynchronously are refused, not returned unchecked', async () => {
    const asyncRow = row.refine(async () => Promise.resolve(true));
    const error: unknown = await pool.one(sql.type(asyncRow)`select 'a' as id, 1 as n, null::timestamptz as at`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/must validate synchronously/);
  });

  it('of queries without a schema are returned as the driver parsed them', async () => {
    expect(await pool.one(sql.unsafe`select 'a' as id, 'not a number' as n`)).toEqual({ id: 'a', n: 'not a number' });
  });
});
