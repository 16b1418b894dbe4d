import type { Logger } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import type { DatabaseConfig } from '../config/config';
import { UnavailableError } from '../domain/errors';
import type { PoolHolder } from './DatabaseGateway';

/** The outcome of the latest configuration reload, for logs, metrics and health. */
export interface ReloadOutcome {
  readonly ok: boolean;
  readonly at: Date;
  /** Secret-free description of why the new configuration was refused. */
  readonly error?: string;
}

/**
 * Owns the current slonik pool. Before the first successful connection there
 * is none (degraded start: calls get UNAVAILABLE). A reload opens a new pool,
 * validates it, swaps it in atomically and drains the old one; if the new one
 * does not validate, the old pool keeps serving.
 */
export class PoolManager implements PoolHolder {
  #pool: DatabasePool | undefined;
  /** The server the current pool connects to. */
  #target: DatabaseConfig | undefined;
  #closed = false;
  #lastReload: ReloadOutcome | undefined;

  constructor(
    private readonly deps: {
      readonly createPool: (db: DatabaseConfig) => Promise<DatabasePool>;
      /** Aims the configured settings at the server to use (the current primary, with several endpoints). */
      readonly target?: (db: DatabaseConfig) => DatabaseConfig;
      /** Told of every pool that goes into service (instrumentation follows it). */
      readonly onSwap?: (pool: DatabasePool) => void;
      readonly logger: Logger;
    },
  ) {}

  current(): DatabasePool {
    if (this.#pool === undefined) {
      throw new UnavailableError('DATABASE_CONNECTING', 'the service is not connected to the database yet; retry shortly');
    }
    return this.#pool;
  }

  /** The pool, or undefined before the first connection (health and metrics read it without throwing). */
  peek(): DatabasePool | undefined {
    return this.#pool;
  }

  /** The settings (host and port included) of the pool in service. */
  target(): DatabaseConfig | undefined {
    return this.#pool === undefined ? undefined : this.#target;
  }

  get lastReload(): ReloadOutcome | undefined {
    return this.#lastReload;
  }

  /** Opens the first pool (after the database passed its startup checks). */
  async open(db: DatabaseConfig): Promise<void> {
    const target = this.deps.target?.(db) ?? db;
    const pool = await this.deps.createPool(target);
    if (this.#closed) {
      await pool.end();
      return;
    }
    this.#pool = pool;
    this.#target = target;
    this.deps.onSwap?.(pool);
  }

  /**
   * Opens a pool with the new settings and swaps it in; keeps the old one
   * when the new one fails, or when `check` (the startup checks against the
   * new target) rejects first.
   */
  async reload(db: DatabaseConfig, describeError: (error: unknown) => string, check?: () => Promise<void>): Promise<ReloadOutcome> {
    let next: DatabasePool | undefined;
    const target = this.deps.target?.(db) ?? db;
    try {
      await check?.();
      next = await this.deps.createPool(target);
      await next.oneFirst(sql.unsafe`select 1`);
    } catch (error) {
      await next?.end().catch(() => undefined);
      this.#lastReload = { ok: false, at: new Date(), error: describeError(error) };
      this.deps.logger.error(
        { reload: 'refused', reason: this.#lastReload.error },
        'configuration reload refused: new database settings do not validate; still serving on the previous pool',
      );
      return this.#lastReload;
    }
    const previous = this.#pool;
    this.#pool = next;
    this.#target = target;
    this.deps.onSwap?.(next);
    this.#lastReload = { ok: true, at: new Date() };
    this.deps.logger.info({ reload: 'applied' }, 'configuration reloaded: new database pool in service');
    // In-flight work keeps its connection; end() waits for it and closes the rest.
    if (previous !== undefined) void previous.end().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'closing the previous pool failed'));
    return this.#lastReload;
  }

  /**
   * Moves the service to another server with the same settings (a failover
   * found a new primary): opens and validates a pool there, swaps it in and
   * drains the old one. Not a configuration reload: `lastReload` is kept.
   * Resolves false (the old pool stays) when the new one does not validate.
   */
  async retarget(db: DatabaseConfig): Promise<boolean> {
    if (this.#pool === undefined || this.#closed) return false;
    let next: DatabasePool | undefined;
    try {
      next = await this.deps.createPool(db);
      await next.oneFirst(sql.unsafe`select 1`);
    } catch (error) {
      await next?.end().catch(() => undefined);
      this.deps.logger.error({ err: error, host: db.host, port: db.port }, 'moving the pool to the new primary failed; retrying at the next probe');
      return false;
    }
    if (this.#closed) {
      await next.end();
      return false;
    }
    const previous = this.#pool;
    this.#pool = next;
    this.#target = db;
    this.deps.onSwap?.(next);
    this.deps.logger.warn({ host: db.host, port: db.port }, 'database pool moved to the new primary');
    void previous.end().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'closing the previous pool failed'));
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }
}
