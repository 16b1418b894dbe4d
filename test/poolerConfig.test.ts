/** DB_POOL_MODE and DB_MIGRATION_URL: parsing, defaults, and what each connection then sends (pure, no server). */
import { loadConfig } from '../src/config/config';
import { ConfigError } from '../src/config/ConfigError';
import { directConnection, passwordlessDsn, pgClientConfig } from '../src/db/connectionSettings';

const base = { APP_ENV: 'test', DATABASE_URL: 'postgresql://app:pool-pw@pgbouncer.internal:6432/coaching', DB_SCHEMA: 'coaching' };
const load = (env: Record<string, string>) => loadConfig({ env: { ...base, ...env }, envFile: '/nonexistent/.env' });

describe('DB_POOL_MODE', () => {
  it('defaults to session: connections send search_path as a startup option, and the probe its statement_timeout', () => {
    const { db } = load({});
    expect(db.poolMode).toBe('session');
    expect(db.direct).toBeUndefined();
    expect(pgClientConfig(db, { statementTimeoutMs: 500 })).toMatchObject({
      options: '-c search_path="coaching" -c TimeZone=UTC -c DateStyle=ISO,MDY',
      statement_timeout: 500,
    });
    expect(passwordlessDsn(db)).toContain('options=');
    expect(directConnection(db)).toBe(db);
  });

  it('transaction sends no startup parameter at all (PgBouncer 1.18 refuses unknown ones)', () => {
    const { db } = load({ DB_POOL_MODE: 'transaction', DB_MIGRATE_ON_START: 'false' });
    expect(db.poolMode).toBe('transaction');
    const client = pgClientConfig(db, { statementTimeoutMs: 500 });
    expect(client).not.toHaveProperty('options');
    expect(client).not.toHaveProperty('statement_timeout');
    expect(passwordlessDsn(db)).not.toContain('options');
  });

  it('rejects other values, and migrations on start without a direct connection', () => {
    expect(() => load({ DB_POOL_MODE: 'statement' })).toThrow(ConfigError);
    let problems: readonly string[] = [];
    try {
      load({ DB_POOL_MODE: 'transaction', DB_MIGRATE_ON_START: 'true' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^DB_MIGRATION_URL is required when DB_POOL_MODE=transaction and DB_MIGRATE_ON_START=true/)]);
  });
});

describe('DB_MIGRATION_URL', () => {
  it("takes what it gives and the pool's settings for the rest; the direct connection may carry startup options", () => {
    const { db } = load({ DB_POOL_MODE: 'transaction', DB_MIGRATION_URL: 'postgresql://owner:owner-pw@postgres.internal:5432', DB_SSL_MODE: 'require' });
    expect(db.direct).toEqual({
      host: 'postgres.internal',
      port: 5432,
      name: 'coaching',
      user: 'owner',
      password: { kind: 'literal', value: 'owner-pw' },
      sslMode: 'require',
    });
    const direct = directConnection(db);
    expect(direct).toMatchObject({ host: 'postgres.internal', poolMode: 'session', schema: 'coaching' });
    expect(pgClientConfig(direct)).toMatchObject({
      host: 'postgres.internal',
      port: 5432,
      user: 'owner',
      password: 'owner-pw',
      options: '-c search_path="coaching" -c TimeZone=UTC -c DateStyle=ISO,MDY',
    });
    // Without a password of its own it uses the pool's.
    expect(load({ DB_MIGRATION_URL: 'postgresql://postgres.internal' }).db.direct?.password).toEqual({ kind: 'literal', value: 'pool-pw' });
  });

  it('must be a postgresql:// URL, and its password is never echoed', () => {
    let problems: readonly string[] = [];
    try {
      load({ DB_MIGRATION_URL: 'mysql://u:very-secret@h/db' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^DB_MIGRATION_URL must start with postgresql:\/\//)]);
    expect(JSON.stringify(problems)).not.toContain('very-secret');
  });
});
