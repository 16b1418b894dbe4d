import { EventEmitter, type Event } from 'cockatiel';
import type { Logger } from 'pino';
import { secretValues, type Config } from '../config/config';
import type { PoolManager, ReloadOutcome } from '../db/PoolManager';
import { changedKeys, passwordFingerprint } from './changedKeys';

export interface ConfigReloadDeps {
  readonly initial: Config;
  /** Fresh configuration (SIGHUP, password file change); undefined re-applies the one in force. */
  readonly loadNext?: () => Config;
  readonly pools: PoolManager;
  /** The startup checks (environment guard, schema, migrations) against a candidate configuration. */
  readonly check: (candidate: Config) => Promise<void>;
  /** A secret-free reason for a refused candidate. */
  readonly describeError: (candidate: Config, error: unknown) => string;
  readonly secrets: { add(value: string | undefined): void };
  readonly logger: Logger;
  /** Told of every configuration that comes into force (metrics, health). */
  readonly applied?: (config: Config) => void;
  /** Counts reload outcomes. */
  readonly counted?: (outcome: 'applied' | 'refused') => void;
  /** Counts each changed key of a reload (by name) with what became of it. */
  readonly keyChanged?: (key: string, outcome: 'applied' | 'refused' | 'needs-restart') => void;
}

/** The configuration in force and the serialised reload that replaces it. */
export interface ConfigReload {
  /** The configuration in force: the start configuration with the database settings of the latest applied reload. */
  current(): Config;
  reload(): Promise<ReloadOutcome>;
  /** Resolves when the reload under way (if any) has finished. */
  settled(): Promise<void>;
  /** Fires as each reload starts: files that are not part of the configuration (TLS certificates, admin token) are re-read then. */
  readonly onReload: Event<void>;
}

/**
 * Reload: a candidate configuration (the one in force with the new database
 * settings; other settings need a restart) must pass the startup checks
 * against its target, then open and validate a new pool, before it is
 * swapped in; anything failing keeps the configuration and pool in force.
 * Reloads run one after another, so a burst of file events applies in order.
 */
export function createConfigReload(deps: ConfigReloadDeps): ConfigReload {
  let inForce = deps.initial;
  let passwordInForce = passwordFingerprint(inForce);
  const starting = new EventEmitter<void>();
  let reloading: Promise<ReloadOutcome> = Promise.resolve({ ok: true, at: new Date() });
  deps.applied?.(inForce);

  const reloadOnce = async (): Promise<ReloadOutcome> => {
    const next = deps.loadNext?.() ?? inForce;
    // Names only, never values (README: audit trail).
    const nextPassword = passwordFingerprint(next);
    const keys = changedKeys(inForce, next);
    if (nextPassword !== passwordInForce && !keys.some((key) => key.startsWith('db.password'))) keys.push('db.password');
    // The endpoint list of several hosts is read at start (src/db/endpoints): a change to it needs a restart.
    const appliedHere = (key: string): boolean => key.startsWith('db.') && !key.startsWith('db.endpoints');
    const databaseKeys = keys.filter(appliedHere);
    const restartKeys = keys.filter((key) => !appliedHere(key));
    const changed = [...new Set(restartKeys.map((key) => key.split('.')[0]!))];
    if (changed.length > 0) {
      deps.logger.warn({ changed }, 'reload applies the database settings only; these changed settings take effect at the next restart');
    }
    for (const value of secretValues(next)) deps.secrets.add(value);
    starting.emit();
    const candidate: Config = Object.freeze({ ...inForce, db: next.db });
    const outcome = await deps.pools.reload(
      candidate.db,
      (error) => deps.describeError(candidate, error),
      () => deps.check(candidate),
    );
    if (outcome.ok) {
      inForce = candidate;
      passwordInForce = nextPassword;
      deps.applied?.(inForce);
    }
    deps.counted?.(outcome.ok ? 'applied' : 'refused');
    const result = outcome.ok ? 'applied' : 'refused';
    for (const key of databaseKeys) deps.keyChanged?.(key, result);
    for (const key of restartKeys) deps.keyChanged?.(key, 'needs-restart');
    deps.logger.warn(
      {
        audit: true,
        action: 'config-reload',
        outcome: result,
        changedKeys: databaseKeys,
        needsRestart: restartKeys,
        ...(outcome.error !== undefined && { reason: outcome.error }),
      },
      outcome.ok
        ? `configuration reload applied (${databaseKeys.length === 0 ? 'no database setting changed' : `changed: ${databaseKeys.join(', ')}`})`
        : `configuration reload refused, the configuration in force stays: ${outcome.error ?? 'unknown reason'}`,
    );
    return outcome;
  };

  return {
    onReload: starting.addListener,
    current: () => inForce,
    reload: () => {
      reloading = reloading.then(reloadOnce, reloadOnce);
      return reloading;
    },
    settled: () =>
      reloading.then(
        () => undefined,
        () => undefined,
      ),
  };
}
