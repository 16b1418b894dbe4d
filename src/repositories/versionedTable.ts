import { sql, type CommonQueryMethods, type FragmentSqlToken, type ListSqlToken, type ValueExpression } from 'slonik';
import type { z } from 'zod';
import { InUseError } from '../domain/errors';
import type { PageCursor } from '../domain/PageTokenCodec';
import { driverCode } from '../db/driverErrors';

/** Row locks a read may take (FOR ... of the selected row). */
export type RowLock = 'update' | 'share' | 'key share';

const LOCKS: Record<RowLock, FragmentSqlToken> = {
  update: sql.fragment`for update`,
  share: sql.fragment`for share`,
  'key share': sql.fragment`for key share`,
};

/** A table's row inside a wider result row, under prefixed names (`versionedTable(...).beside`). */
export interface Beside<Rec> {
  readonly columns: FragmentSqlToken;
  readonly shape: Readonly<Record<string, z.ZodType>>;
  readonly toRecord: (row: Readonly<Record<string, unknown>>) => Rec;
  /** The shape when the row may be absent (an outer join): every column may be null. */
  readonly nullableShape: Readonly<Record<string, z.ZodType>>;
  /** The record, or undefined when the row is absent (its id is null). */
  readonly toRecordIfAny: (row: Readonly<Record<string, unknown>>) => Rec | undefined;
}

/** What the shared statements need to know about a table of versioned rows. */
export interface VersionedTableSpec<Row extends object, Rec> {
  /** Name of the resource in errors, e.g. "profile". */
  readonly resource: string;
  readonly table: string;
  /** Shape of a selected row, checked by the result parser; its keys are the selected columns. */
  readonly row: z.ZodType<Row> & { readonly shape: Readonly<Record<string, unknown>> };
  /** Timestamp column of the list order; `id` breaks ties. */
  readonly orderBy: string;
  readonly toRecord: (row: Row) => Rec;
}

/** `column = value` for each defined value: the equality filters of a List call. */
export function equalities(filter: Readonly<Record<string, string | undefined>>): FragmentSqlToken[] {
  return Object.entries(filter)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([column, value]) => sql.fragment`${sql.identifier([column])} = ${value}`);
}

/** A timestamptz parameter from a Date (sent as ISO text: exact to the millisecond). */
export function timestamptz(value: Date): FragmentSqlToken {
  return sql.fragment`${value.toISOString()}::timestamptz`;
}

/**
 * The statements every resource table shares: rows carry `id` and an integer
 * `version` that each write bumps (the etag), and lists page by keyset on
 * (orderBy, id). Every function takes a connection, so it runs on the pool or
 * inside the caller's transaction.
 */
export function versionedTable<Row extends object, Rec>(spec: VersionedTableSpec<Row, Rec>) {
  const table = sql.identifier([spec.table]);
  const orderBy = sql.identifier([spec.orderBy]);
  const typed = sql.type(spec.row);
  const qualified = (alias?: string): ListSqlToken =>
    sql.join(
      Object.keys(spec.row.shape).map((column) => sql.identifier(alias === undefined ? [column] : [alias, column])),
      sql.fragment`, `,
    );
  // Rendered once: a list of identifiers is rendered again by every query that embeds it (~4 µs a query), a fragment is not.
  const columns = sql.fragment`${qualified()}`;
  const columnNames = Object.keys(spec.row.shape);

  /** `update … where id and version (and conditions) returning …`: the statement of `update`, for a caller that sends it with another. */
  const updateStatement = (
    id: string,
    version: number,
    sets: FragmentSqlToken[],
    conditions: FragmentSqlToken[],
    returning: FragmentSqlToken,
  ): FragmentSqlToken => {
    const assignments = [sql.fragment`update_time = now()`, sql.fragment`version = version + 1`, ...sets];
    return sql.fragment`
      update ${table} set ${sql.join(assignments, sql.fragment`, `)}
      where ${sql.join([sql.fragment`id = ${id}`, sql.fragment`version = ${version}`, ...conditions], sql.fragment` and `)}
      returning ${returning}`;
  };

  /**
   * `insert … returning …` of one row from column → value: with `source` (a
   * FROM clause, e.g. over the caller's WITH items) one row per row of it, so
   * give each value its type (a cast), as a SELECT list does not take the
   * columns' types as VALUES does.
   */
  const insertStatement = (values: Readonly<Record<string, ValueExpression>>, returning: FragmentSqlToken, source?: FragmentSqlToken): FragmentSqlToken => {
    const entries = Object.entries(values);
    const names = sql.join(
      entries.map(([column]) => sql.identifier([column])),
      sql.fragment`, `,
    );
    const list = sql.join(
      entries.map(([, value]) => value),
      sql.fragment`, `,
    );
    return source === undefined
      ? sql.fragment`insert into ${table} (${names}) values (${list}) returning ${returning}`
      : sql.fragment`insert into ${table} (${names}) select ${list} ${source} returning ${returning}`;
  };

  return {
    /** The selected columns, qualified by a table alias (for joins and UPDATE ... FROM). */
    columns: qualified,
    toRecord: spec.toRecord,
    insertStatement,
    updateStatement,

    /**
     * This table's row returned beside another table's by one statement: its
     * columns (of `alias`, or unqualified) renamed `<prefix><column>` so that
     * the two rows' names cannot clash, the shape that checks them (spread it
     * into the statement's row schema), and the record read back from such a row.
     */
    beside: (prefix: string, alias?: string): Beside<Rec> => {
      const toRecord = (row: Readonly<Record<string, unknown>>): Rec =>
        spec.toRecord(Object.fromEntries(columnNames.map((column) => [column, row[prefix + column]])) as Row);
      return {
        columns: sql.fragment`${sql.join(
          columnNames.map(
            (column) => sql.fragment`${sql.identifier(alias === undefined ? [column] : [alias, column])} as ${sql.identifier([prefix + column])}`,
          ),
          sql.fragment`, `,
        )}`,
        shape: Object.fromEntries(columnNames.map((column) => [prefix + column, spec.row.shape[column] as z.ZodType])),
        toRecord,
        nullableShape: Object.fromEntries(columnNames.map((column) => [prefix + column, (spec.row.shape[column] as z.ZodType).nullable()])),
        toRecordIfAny: (row) => (row[`${prefix}id`] === null ? undefined : toRecord(row)),
      };
    },

    /** Inserts one row from column → value and returns it. */
    insert: async (db: CommonQueryMethods, values: Readonly<Record<string, ValueExpression>>): Promise<Rec> => {
      const row = await db.one(typed`${insertStatement(values, columns)}`);
      return spec.toRecord(row);
    },

    findById: async (db: CommonQueryMethods, id: string, lock?: RowLock): Promise<Rec | undefined> => {
      const row = await db.maybeOne(typed`select ${columns} from ${table} where id = ${id} ${lock === undefined ? sql.fragment`` : LOCKS[lock]}`);
      return row === null ? undefined : spec.toRecord(row);
    },

    /** The first row matching all conditions (e.g. a unique key), optionally locked. */
    findOne: async (db: CommonQueryMethods, conditions: FragmentSqlToken[], lock?: RowLock): Promise<Rec | undefined> => {
      const row = await db.maybeOne(typed`
        select ${columns} from ${table}
        where ${sql.join([sql.fragment`true`, ...conditions], sql.fragment` and `)}
        order by ${orderBy}, id limit 1 ${lock === undefined ? sql.fragment`` : LOCKS[lock]}`);
      return row === null ? undefined : spec.toRecord(row);
    },

    /** One page in (orderBy, id) order after the cursor; callers ask for limit+1 rows to learn whether more exist. */
    list: async (db: CommonQueryMethods, conditions: FragmentSqlToken[], after: PageCursor | undefined, limit: number): Promise<Rec[]> => {
      const where = [sql.fragment`true`, ...conditions];
      if (after !== undefined) where.push(sql.fragment`(${orderBy}, id) > (to_timestamp(${after.time} / 1000.0), ${after.id}::uuid)`);
      const rows = await db.any(typed`
        select ${columns} from ${table}
        where ${sql.join(where, sql.fragment` and `)}
        order by ${orderBy}, id
        limit ${limit}`);
      return rows.map(spec.toRecord);
    },

    /**
     * Applies the assignments (plus update_time and version) when the version
     * matches and every extra condition holds; undefined when no row matched.
     */
    update: async (
      db: CommonQueryMethods,
      id: string,
      version: number,
      sets: FragmentSqlToken[],
      conditions: FragmentSqlToken[] = [],
    ): Promise<Rec | undefined> => {
      const row = await db.maybeOne(typed`${updateStatement(id, version, sets, conditions, columns)}`);
      return row === null ? undefined : spec.toRecord(row);
    },

    /** Deletes every row matching `where` and returns what was deleted (the cascade of a forced delete). */
    deleteWhere: async (db: CommonQueryMethods, where: FragmentSqlToken): Promise<Rec[]> => {
      const rows = await db.any(typed`delete from ${table} where ${where} returning ${columns}`);
      return rows.map(spec.toRecord);
    },

    /**
     * Deletes when the version matches; false when no row matched (missing or
     * stale). The foreign keys restrict: a row still referenced is refused
     * with InUseError, whichever key refused it.
     */
    delete: async (db: CommonQueryMethods, id: string, version: number): Promise<boolean> => {
      try {
        const result = await db.query(sql.unsafe`delete from ${table} where id = ${id} and version = ${version}`);
        return result.rowCount === 1;
      } catch (error) {
        if (driverCode(error) === '23503') throw new InUseError(spec.resource, id, {}, { cause: error });
        throw error;
      }
    },
  };
}

export type VersionedTable<Rec> = ReturnType<typeof versionedTable<object, Rec>>;
