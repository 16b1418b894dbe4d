import type { Client } from 'pg';
import type { DatabaseConfig } from '../config/config';

/**
 * Behind a transaction pooler (DB_POOL_MODE=transaction) the service sends no
 * startup parameters, so what it would have sent must come from the role's
 * own defaults on the server: unqualified names resolve to DB_SCHEMA, and the
 * statement and idle-in-transaction timeouts are set. The gateway shortens the
 * statement timeout per transaction (SET LOCAL) and relies on the default
 * being no longer than DB_STATEMENT_TIMEOUT.
 *
 * Returns one problem per missing default, plus the statements that fix them.
 */
export async function checkSessionDefaults(client: Client, db: DatabaseConfig): Promise<{ problems: string[]; fix: string[] }> {
  const { rows } = await client.query<{ schema: string | null; statement_timeout: number; idle_timeout: number }>(
    `select current_schema() as schema,
            (select setting::int from pg_settings where name = 'statement_timeout') as statement_timeout,
            (select setting::int from pg_settings where name = 'idle_in_transaction_session_timeout') as idle_timeout`,
  );
  const row = rows[0]!;
  const role = `alter role "${db.user.replace(/"/g, '""')}" in database "${db.name.replace(/"/g, '""')}" set`;
  const seconds = `'${db.statementTimeoutMs / 1000}s'`;
  const problems: string[] = [];
  const fix: string[] = [];
  if (row.schema !== db.schema) {
    problems.push(`unqualified names resolve to schema ${JSON.stringify(row.schema)}, not DB_SCHEMA "${db.schema}"`);
    fix.push(`${role} search_path = "${db.schema.replace(/"/g, '""')}"`);
  }
  if (row.statement_timeout <= 0 || row.statement_timeout > db.statementTimeoutMs) {
    problems.push(`statement_timeout is ${row.statement_timeout} ms, expected 1 to ${db.statementTimeoutMs} (DB_STATEMENT_TIMEOUT)`);
    fix.push(`${role} statement_timeout = ${seconds}`);
  }
  if (row.idle_timeout <= 0) {
    problems.push('idle_in_transaction_session_timeout is off');
    fix.push(`${role} idle_in_transaction_session_timeout = ${seconds}`);
  }
  return { problems, fix };
}
