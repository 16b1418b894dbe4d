import type { Client } from 'pg';
import { quotedSchema } from './sessionDefaults';
import type { Migration } from './migrations';

/** What the database holds compared with what this build expects. */
export interface MigrationStatus {
  readonly applied: readonly { version: number; name: string; checksum: string }[];
  readonly pending: readonly Migration[];
  /** Applied in the database but unknown to this build (a newer build migrated it). */
  readonly unknown: readonly number[];
  /** Applied with a different checksum: the file was edited after it ran. */
  readonly modified: readonly number[];
}

/** Raised for any state the service must not run against; the message says what to do. */
export class DatabaseStateError extends Error {
  override readonly name = 'DatabaseStateError';
  constructor(
    readonly kind: 'environment' | 'migrations',
    message: string,
  ) {
    super(message);
  }
}

// Two replicas starting together serialise on this lock, so migrations run once.
const LOCK_KEY = 'coaching-service:migrations';

/**
 * Applies and inspects the numbered SQL migrations inside one schema, and
 * records which APP_ENV the database belongs to (the environment guard).
 */
export class Migrator {
  constructor(
    private readonly client: Client,
    private readonly schema: string,
    private readonly appEnv: string,
    private readonly migrations: readonly Migration[],
  ) {}

  private get q(): string {
    return quotedSchema(this.schema);
  }

  async status(): Promise<MigrationStatus> {
    const applied = (await this.tableExists('schema_migrations'))
      ? (
          await this.client.query<{ version: number; name: string; checksum: string }>(
            `select version, name, checksum from ${this.q}.schema_migrations order by version`,
          )
        ).rows
      : [];
    const byVersion = new Map(applied.map((row) => [row.version, row]));
    const known = new Set(this.migrations.map((m) => m.version));
    return {
      applied,
      pending: this.migrations.filter((m) => !byVersion.has(m.version)),
      unknown: applied.filter((row) => !known.has(row.version)).map((row) => row.version),
      modified: this.migrations.filter((m) => byVersion.has(m.version) && byVersion.get(m.version)!.checksum !== m.checksum).map((m) => m.version),
    };
  }

  /** The APP_ENV recorded at first migration, or undefined for a fresh database. */
  async recordedEnvironment(): Promise<string | undefined> {
    if (!(await this.tableExists('service_environment'))) return undefined;
    const rows = (await this.client.query<{ app_env: string }>(`select app_env from ${this.q}.service_environment`)).rows;
    return rows[0]?.app_env;
  }

  /** Throws when the database was first migrated for another APP_ENV. */
  async assertEnvironment(): Promise<void> {
    const recorded = await this.recordedEnvironment();
    if (recorded !== undefined && recorded !== this.appEnv) {
      throw new DatabaseStateError(
        'environment',
        `database ${this.schema} belongs to APP_ENV=${recorded} but this service runs with APP_ENV=${this.appEnv}; refusing to touch it (check DATABASE_URL/DB_HOST and APP_ENV)`,
      );
    }
  }

  /** Applies every pending migration, each in its own transaction; returns what ran. */
  async up(): Promise<Migration[]> {
    return this.withLock(async () => {
      await this.ensureBookkeeping();
      await this.assertEnvironment();
      const status = await this.status();
      this.assertConsistent(status);
      for (const migration of status.pending) {
        await this.inTransaction(async () => {
          await this.client.query(migration.up);
          await this.client.query(`insert into ${this.q}.schema_migrations (version, name, checksum) values ($1, $2, $3)`, [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
        });
      }
      return [...status.pending];
    });
  }

  /** Reverts the latest `steps` applied migrations; returns what was reverted. */
  async down(steps = 1): Promise<Migration[]> {
    return this.withLock(async () => {
      await this.assertEnvironment();
      const status = await this.status();
      this.assertConsistent(status);
      const toRevert = [...status.applied]
        .reverse()
        .slice(0, steps)
        .map((row) => this.migrations.find((m) => m.version === row.version)!);
      for (const migration of toRevert) {
        await this.inTransaction(async () => {
          await this.client.query(migration.down);
          await this.client.query(`delete from ${this.q}.schema_migrations where version = $1`, [migration.version]);
        });
      }
      return toRevert;
    });
  }

  /** Throws unless the applied migrations are exactly the ones this build expects. */
  async assertCurrent(): Promise<void> {
    const status = await this.status();
    this.assertConsistent(status);
    if (status.pending.length > 0) {
      throw new DatabaseStateError(
        'migrations',
        `database has ${status.pending.length} pending migration(s) (${status.pending.map((m) => `${m.version}_${m.name}`).join(', ')}); run "npm run migrate -- up" or set DB_MIGRATE_ON_START=true`,
      );
    }
  }

  private assertConsistent(status: MigrationStatus): void {
    if (status.unknown.length > 0) {
      throw new DatabaseStateError(
        'migrations',
        `database has migration(s) ${status.unknown.join(', ')} that this build does not know; deploy the newer build or roll the database back`,
      );
    }
    if (status.modified.length > 0) {
      throw new DatabaseStateError(
        'migrations',
        `migration(s) ${status.modified.join(', ')} were edited after being applied (checksum differs); restore the original files and add a new migration instead`,
      );
    }
  }

  private async tableExists(table: string): Promise<boolean> {
    const result = await this.client.query<{ present: boolean }>('select to_regclass($1) is not null as present', [`${this.q}.${table}`]);
    return result.rows[0]?.present === true;
  }

  private async ensureBookkeeping(): Promise<void> {
    await this.client.query(`create schema if not exists ${this.q}`);
    await this.client.query(
      `create table if not exists ${this.q}.schema_migrations (version integer primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`,
    );
    await this.client.query(
      `create table if not exists ${this.q}.service_environment (app_env text primary key, recorded_at timestamptz not null default now(), singleton boolean not null default true unique check (singleton))`,
    );
    await this.client.query(`insert into ${this.q}.service_environment (app_env) values ($1) on conflict do nothing`, [this.appEnv]);
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('select pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
    try {
      return await work();
    } finally {
      await this.client.query('select pg_advisory_unlock(hashtext($1))', [LOCK_KEY]);
    }
  }

  private async inTransaction(work: () => Promise<void>): Promise<void> {
    await this.client.query('begin');
    try {
      await this.client.query(`set local search_path to ${this.q}`);
      await work();
      await this.client.query('commit');
    } catch (error) {
      await this.client.query('rollback');
      throw error;
    }
  }
}
