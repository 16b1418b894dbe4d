import type { Client } from 'pg';
import type { DatabaseConfig } from '../config/config';

/**
 * A session setting the service relies on. With DB_POOL_MODE=session it is
 * sent when connecting; behind a transaction pooler (which refuses startup
 * parameters, and where a SET would stick to whichever server connection ran
 * it) it must be the role's default instead, checked at startup.
 */
export interface SessionSetting {
  readonly name: string;
  /** Sent as `-c name=value` in the startup options (undefined: slonik sends it as its own parameter, or not at all). */
  readonly option: string | undefined;
  /** SQL expression reading the effective value (as text). */
  readonly read: string;
  /** Undefined when the value is right, else what is wrong with it. */
  readonly problem: (actual: string | null) => string | undefined;
  /** The value for `alter role … set <name> = <value>`. */
  readonly roleValue: string;
}

/**
 * DB_SCHEMA as PostgreSQL reads it in search_path: double-quoted, so that a
 * mixed-case name ("CoachingData") is not folded to lower case, as the
 * migrations (which quote it too) would otherwise disagree with every query.
 */
export function quotedSchema(schema: string): string {
  return `"${schema.replace(/"/g, '""')}"`;
}

const ms = (name: string): string => `(select setting from pg_settings where name = '${name}')`;

/** Every setting the service's connections need, in one list: sent at connect, or checked as role defaults. */
export function sessionSettings(db: DatabaseConfig): SessionSetting[] {
  const limit = db.statementTimeoutMs;
  const seconds = `'${limit / 1000}s'`;
  return [
    {
      name: 'search_path',
      // Quoted as the migrations quote it, so a mixed-case DB_SCHEMA is not folded to lower case.
      option: quotedSchema(db.schema),
      read: 'current_schema()',
      problem: (actual) => (actual === db.schema ? undefined : `unqualified names resolve to schema ${JSON.stringify(actual)}, not DB_SCHEMA "${db.schema}"`),
      roleValue: quotedSchema(db.schema),
    },
    {
      // One text form of timestamptz and dates, whatever the server's defaults (slonik parses the text).
      name: 'TimeZone',
      option: 'UTC',
      read: "current_setting('TimeZone')",
      problem: (actual) => (actual === 'UTC' ? undefined : `TimeZone is ${JSON.stringify(actual)}, not "UTC"`),
      roleValue: "'UTC'",
    },
    {
      // The options string is split on whitespace: no space after the comma there.
      name: 'DateStyle',
      option: 'ISO,MDY',
      read: "current_setting('DateStyle')",
      problem: (actual) => (actual === 'ISO, MDY' ? undefined : `DateStyle is ${JSON.stringify(actual)}, not "ISO, MDY"`),
      roleValue: "'ISO, MDY'",
    },
    {
      // The gateway shortens it per transaction (SET LOCAL) and relies on the default being no longer than DB_STATEMENT_TIMEOUT.
      name: 'statement_timeout',
      option: undefined,
      read: ms('statement_timeout'),
      problem: (actual) =>
        Number(actual) > 0 && Number(actual) <= limit ? undefined : `statement_timeout is ${actual} ms, expected 1 to ${limit} (DB_STATEMENT_TIMEOUT)`,
      roleValue: seconds,
    },
    {
      name: 'idle_in_transaction_session_timeout',
      option: undefined,
      read: ms('idle_in_transaction_session_timeout'),
      problem: (actual) => (Number(actual) > 0 ? undefined : 'idle_in_transaction_session_timeout is off'),
      roleValue: seconds,
    },
  ];
}

/** The startup `options` string of a connection that may carry one. */
export function startupOptionsOf(db: DatabaseConfig): string {
  return sessionSettings(db)
    .filter((s) => s.option !== undefined)
    .map((s) => `-c ${s.name}=${s.option}`)
    .join(' ');
}

/**
 * Reads the settings on a connection made as the pool makes them (through the
 * pooler, no startup parameters) and returns one problem per setting that the
 * role's defaults do not provide, plus the statements that fix them.
 */
export async function checkSessionDefaults(client: Client, db: DatabaseConfig): Promise<{ problems: string[]; fix: string[] }> {
  const settings = sessionSettings(db);
  const { rows } = await client.query<Record<string, string | null>>(`select ${settings.map((s, i) => `(${s.read})::text as s${i}`).join(', ')}`);
  const role = `alter role "${db.user.replace(/"/g, '""')}" in database "${db.name.replace(/"/g, '""')}" set`;
  const problems: string[] = [];
  const fix: string[] = [];
  settings.forEach((setting, i) => {
    const problem = setting.problem(rows[0]?.[`s${i}`] ?? null);
    if (problem === undefined) return;
    problems.push(problem);
    fix.push(`${role} ${setting.name} = ${setting.roleValue}`);
  });
  return { problems, fix };
}
