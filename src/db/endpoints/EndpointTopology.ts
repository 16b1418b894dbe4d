import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { DatabaseConfig, DatabaseEndpoint } from '../../config/config';
import { databaseFailureCode } from '../failureCode';
import { choosePrimary, choosePrimaryByOperator, initialPrimaryState, type PrimaryEvent, type PrimaryState } from './choosePrimary';
import { lsnBytes, probeEndpoint, type EndpointFacts } from './probeEndpoint';

export type EndpointRole = 'primary' | 'standby' | 'fenced' | 'foreign' | 'unreachable' | 'unknown';

/** The latest view of one endpoint, for routing, health and metrics. */
export interface EndpointView {
  readonly key: string;
  readonly endpoint: DatabaseEndpoint;
  readonly role: EndpointRole;
  readonly facts: EndpointFacts | undefined;
  /** Standby: WAL bytes the primary has that it has not replayed (received but unreplayed while the primary is unreachable). */
  readonly bytesBehind: bigint | undefined;
  readonly errorCode: string | undefined;
  readonly error: string | undefined;
  readonly probedAt: Date | undefined;
}

export interface EndpointTopologyDeps {
  readonly db: DatabaseConfig;
  /** A pool to one endpoint (probes and standby reads); rejects when it cannot connect. */
  readonly createPool: (db: DatabaseConfig) => Promise<DatabasePool>;
  readonly logger: Logger;
  /** Told when the primary changes (failover, operator choice), with the new generation. */
  readonly primaryChanged?: (primary: DatabaseEndpoint | undefined, generation: number) => void;
  /** Told after every probe round. */
  readonly probed?: () => void;
}

export const endpointKey = (e: DatabaseEndpoint): string => `${e.host}:${e.port}`;

/** One endpoint's database settings: the shared ones with this host and port. */
export const endpointConfig = (db: DatabaseConfig, e: DatabaseEndpoint): DatabaseConfig => ({ ...db, host: e.host, port: e.port });

/**
 * The servers of the cluster and their roles: asks every endpoint
 * pg_is_in_recovery() (and its system identifier, timeline and replay
 * position) each health interval, or at once when the request path suspects
 * a change, and applies the fencing rule (choosePrimary.ts). Keeps one pool
 * per endpoint for the probes and for reads served by standbys.
 */
export class EndpointTopology {
  #state: PrimaryState = initialPrimaryState;
  readonly #views = new Map<string, EndpointView>();
  readonly #pools = new Map<string, Promise<DatabasePool>>();
  /** The pools that connected, for synchronous use on the request path. */
  readonly #connected = new Map<string, DatabasePool>();
  #round: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Conditions that hold round after round (a foreign endpoint, an ambiguous pair): logged when they start, not every round. */
  #standing = new Set<string>();

  constructor(private readonly deps: EndpointTopologyDeps) {
    for (const endpoint of deps.db.endpoints) {
      const key = endpointKey(endpoint);
      this.#views.set(key, {
        key,
        endpoint,
        role: 'unknown',
        facts: undefined,
        bytesBehind: undefined,
        errorCode: undefined,
        error: undefined,
        probedAt: undefined,
      });
    }
  }

  /** Probes every endpoint now, then every DB_HEALTH_CHECK_INTERVAL. */
  async start(): Promise<void> {
    await this.probeNow();
    const tick = (): void => {
      this.#timer = setTimeout(() => {
        void this.probeNow().finally(() => {
          if (!this.#stopped) tick();
        });
      }, this.deps.db.healthCheckIntervalMs);
      this.#timer.unref();
    };
    tick();
  }

  /** A round now (or right after the one under way): the request path saw the primary fail or refuse a write. */
  probeNow(): Promise<void> {
    if (this.#round !== undefined) {
      this.#again = true;
      return this.#round;
    }
    const round = this.#probeRound().finally(() => {
      this.#round = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.probeNow();
      }
    });
    this.#round = round;
    return round;
  }

  primary(): DatabaseEndpoint | undefined {
    const key = this.#state.primary;
    return key === undefined ? undefined : this.#views.get(key)?.endpoint;
  }

  generation(): number {
    return this.#state.generation;
  }

  views(): EndpointView[] {
    return [...this.#views.values()];
  }

  /** The standbys that can serve reads now (reachable at the last probe, of this cluster, connected), least behind first. */
  readableStandbys(): { view: EndpointView; pool: DatabasePool }[] {
    return this.views()
      .filter((v) => v.role === 'standby' && this.#connected.has(v.key))
      .sort((a, b) => Number((a.bytesBehind ?? 0n) - (b.bytesBehind ?? 0n)))
      .map((view) => ({ view, pool: this.#connected.get(view.key)! }));
  }

  /** Operator override (admin listener): `host:port` becomes the primary; every other writable endpoint is fenced. */
  choose(key: string): boolean {
    if (!this.#views.has(key)) return false;
    this.#state = choosePrimaryByOperator(this.#state, key, [...this.#views.keys()]);
    this.deps.logger.warn({ primary: key, generation: this.#state.generation }, 'operator chose the database primary');
    this.deps.primaryChanged?.(this.primary(), this.#state.generation);
    void this.probeNow();
    return true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round?.catch(() => undefined);
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#connected.clear();
    await Promise.all(pools.map((p) => p.then((pool) => pool.end()).catch(() => undefined)));
  }

  #pool(endpoint: DatabaseEndpoint): Promise<DatabasePool> {
    const key = endpointKey(endpoint);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = this.deps.createPool(endpointConfig(this.deps.db, endpoint));
      // A pool that could not connect is forgotten, so the next round tries again.
      pool.then(
        (connected) => {
          if (this.#stopped) void connected.end().catch(() => undefined);
          else this.#connected.set(key, connected);
        },
        () => {
          if (this.#pools.get(key) === pool) this.#pools.delete(key);
        },
      );
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async #probeOne(endpoint: DatabaseEndpoint): Promise<{ facts?: EndpointFacts; error?: unknown }> {
    const timeoutMs = this.deps.db.pingTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    });
    try {
      const facts = await Promise.race([this.#pool(endpoint).then((pool) => probeEndpoint(pool)), timeout]);
      return { facts };
    } catch (error) {
      return { error };
    } finally {
      clearTimeout(timer);
    }
  }

  async #probeRound(): Promise<void> {
    const endpoints = this.deps.db.endpoints;
    const results = await Promise.all(endpoints.map(async (e) => ({ endpoint: e, key: endpointKey(e), ...(await this.#probeOne(e)) })));
    if (this.#stopped) return;
    const before = this.#state;
    const { state, events } = choosePrimary(
      before,
      results.map((r) => ({
        key: r.key,
        reachable: r.facts !== undefined,
        ...(r.facts !== undefined && { inRecovery: r.facts.inRecovery, systemId: r.facts.systemId, timeline: r.facts.timeline }),
      })),
    );
    this.#state = state;
    const primaryFacts = results.find((r) => r.key === state.primary)?.facts;
    const now = new Date();
    for (const r of results) {
      const facts = r.facts;
      const role: EndpointRole =
        facts === undefined
          ? 'unreachable'
          : state.systemId !== undefined && facts.systemId !== state.systemId
            ? 'foreign'
            : r.key === state.primary && !facts.inRecovery
              ? 'primary'
              : state.fenced.has(r.key)
                ? 'fenced'
                : facts.inRecovery
                  ? 'standby'
                  : 'fenced';
      const bytesBehind =
        facts?.inRecovery !== true
          ? undefined
          : primaryFacts !== undefined && !primaryFacts.inRecovery
            ? maxZero(lsnBytes(primaryFacts.lsn) - lsnBytes(facts.lsn))
            : facts.receiveLsn === undefined
              ? undefined
              : maxZero(lsnBytes(facts.receiveLsn) - lsnBytes(facts.lsn));
      const error = r.error === undefined ? undefined : r.error instanceof Error ? r.error.message : 'probe failed';
      this.#views.set(r.key, {
        key: r.key,
        endpoint: r.endpoint,
        role,
        facts,
        bytesBehind,
        errorCode: r.error === undefined ? undefined : databaseFailureCode(r.error),
        error,
        probedAt: now,
      });
    }
    this.#log(events);
    if (state.primary !== before.primary || state.generation !== before.generation) this.deps.primaryChanged?.(this.primary(), state.generation);
    this.deps.probed?.();
  }

  #log(events: readonly PrimaryEvent[]): void {
    const { logger } = this.deps;
    const standing = new Set(
      events.flatMap((e) => (e.kind === 'foreign' ? [`foreign ${e.key}`] : e.kind === 'ambiguous' ? [`ambiguous ${e.keys.join(',')}`] : [])),
    );
    const seen = this.#standing;
    this.#standing = standing;
    for (const event of events) {
      if (event.kind === 'foreign' && seen.has(`foreign ${event.key}`)) continue;
      if (event.kind === 'ambiguous' && seen.has(`ambiguous ${event.keys.join(',')}`)) continue;
      switch (event.kind) {
        case 'elected':
          logger.warn(
            { primary: event.key, previous: event.previous, timeline: event.timeline, generation: this.#state.generation },
            `database primary is ${event.key}`,
          );
          break;
        case 'fenced':
          logger.error(
            { endpoint: event.key, why: event.why },
            `database endpoint ${event.key} fenced: never written to until it is a standby or an operator chooses it`,
          );
          break;
        case 'unfenced':
          logger.info({ endpoint: event.key, why: event.why }, `database endpoint ${event.key} no longer fenced: ${event.why}`);
          break;
        case 'foreign':
          logger.error({ endpoint: event.key }, `database endpoint ${event.key} belongs to another cluster (system identifier differs): not used`);
          break;
        case 'ambiguous':
          logger.error({ endpoints: event.keys }, 'several database endpoints are writable on the same timeline: no primary until an operator chooses one');
          break;
        case 'lost':
          logger.error({ endpoint: event.key }, `database primary ${event.key} is no longer writable and no successor was found`);
          break;
      }
    }
  }
}

const maxZero = (n: bigint): bigint => (n < 0n ? 0n : n);
