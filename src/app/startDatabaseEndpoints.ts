import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config, DatabaseConfig } from '../config/config';
import { DATABASE_DEPENDENCY_NAME } from '../config/healthDependencies';
import { createDatabaseGateway, type DatabaseGateway, type QueryObserver } from '../db/DatabaseGateway';
import { createDatabasePool } from '../db/createDatabasePool';
import { createReadRouter } from '../db/endpoints/createReadRouter';
import { DataSourceContext } from '../db/endpoints/DataSourceContext';
import { dataSourceScope } from '../db/endpoints/dataSourceScope';
import { EndpointTopology, endpointConfig, endpointKey, type EndpointView } from '../db/endpoints/EndpointTopology';
import { StartupError } from '../db/prepareDatabase';
import type { PoolManager } from '../db/PoolManager';
import type { CallScope } from '../grpc/wrapUnary';
import { createEndpointCheck, endpointDependencyName } from '../health/checks/endpointCheck';
import type { StandIns } from '../health/summarise';
import type { ReadinessSink } from '../health/HealthSink';
import type { DependencyCheck } from '../health/types';
import { trackDatabaseEndpoints } from '../metrics/createReplicationMetrics';
import { createDatabasePolicy, type BreakerState, type DatabasePolicy } from '../resilience/createDatabasePolicy';
import type { Registry } from 'prom-client';

/**
 * The database cluster as the rest of the service sees it. With one endpoint
 * every member is a pass-through and the service behaves as it always did.
 */
export interface DatabaseEndpoints {
  readonly multiHost: boolean;
  /** The settings aimed at the current primary (unchanged with one endpoint, or while no primary is known). */
  aim(db: DatabaseConfig): DatabaseConfig;
  /** Like `aim`, for the startup checks: throws StartupError("unreachable") while no primary is known. */
  requirePrimary(config: Config): Config;
  /**
   * The gateway the services use: the read router over the primary's gateway
   * (its breaker, its pool, which follows a failover) and the standbys.
   */
  gateway(primary: DatabaseGateway, parts: { policy: DatabasePolicy; pools: PoolManager }): DatabaseGateway;
  /** For the RPC wrapper: x-require-primary in, x-data-source out. */
  readonly callScope: CallScope | undefined;
  /** One non-critical health entry per endpoint. */
  readonly healthChecks: readonly DependencyCheck[];
  /** A standby serving reads stands in for postgresql-primary (readiness stays SERVING, GetHealth DEGRADED). */
  readonly standIns: StandIns | undefined;
  /** The readiness gate, with the primary's conditions satisfied while a standby can serve reads (`connected`: the first connection succeeded). */
  readiness(gate: ReadinessSink, connected: boolean): ReadinessSink;
  /** Called after every probe round (roles or lag may have changed). */
  onChange(listener: () => void): void;
  /** Operator override (admin listener): make `host:port` the primary. */
  choosePrimary(key: string): boolean;
  views(): EndpointView[];
  /** How many times the primary changed (failovers, operator choices). */
  generation(): number;
  stop(): Promise<void>;
}

export interface DatabaseEndpointsDeps {
  readonly logger: Logger;
  /** A pool to one endpoint (standby reads, probes); default: createDatabasePool. */
  readonly createPool?: (db: DatabaseConfig) => Promise<DatabasePool>;
  readonly registry: Registry;
  readonly breakerStateChanged: (dependency: string, state: BreakerState) => void;
  readonly observe?: QueryObserver;
}

const passThrough: DatabaseEndpoints = {
  multiHost: false,
  aim: (db) => db,
  requirePrimary: (config) => config,
  gateway: (primary) => primary,
  callScope: undefined,
  healthChecks: [],
  standIns: undefined,
  readiness: (gate) => gate,
  onChange: () => undefined,
  choosePrimary: () => false,
  views: () => [],
  generation: () => 0,
  stop: () => Promise.resolve(),
};

/** Conditions of the readiness gate that only the primary satisfies. */
const PRIMARY_CONDITIONS = new Set(['database-connected', 'database-circuit-closed']);

/**
 * Several database endpoints (DB_HOST lists, libpq style): finds the primary
 * among them each health interval, follows a failover without a reload,
 * fences an old primary, and serves reads from a standby while the primary
 * is unavailable. README "Design decisions": several database endpoints.
 */
export async function startDatabaseEndpoints(config: Config, deps: DatabaseEndpointsDeps): Promise<DatabaseEndpoints> {
  const db = config.db;
  if (db.endpoints.length <= 1) {
    // The same metric names with one host (no samples), so alert rules and dashboards find them everywhere.
    trackDatabaseEndpoints(
      deps.registry,
      () => [],
      () => 0,
    );
    return passThrough;
  }
  const logger = deps.logger.child({ module: 'db-endpoints' });
  const listeners: (() => void)[] = [];
  // Handed over by gateway(), which the root calls once the primary's pool and policy exist.
  let primaryParts: { policy: DatabasePolicy; pools: PoolManager } | undefined;
  const topology = new EndpointTopology({
    db,
    // Standby pools serve reads only while the primary is away: the same size as the primary's.
    createPool: deps.createPool ?? ((endpointDb) => createDatabasePool(endpointDb)),
    logger,
    primaryChanged: () => void follow(),
    probed: () => {
      void follow();
      for (const listener of listeners) listener();
    },
  });
  // Moves the primary's pool to the primary the topology chose; retried after every probe round until it holds.
  let following = false;
  const follow = async (): Promise<void> => {
    const parts = primaryParts;
    const primary = topology.primary();
    const pooled = parts?.pools.target();
    if (following || parts === undefined || primary === undefined || pooled === undefined) return;
    if (endpointKey(pooled) === endpointKey(primary)) return;
    following = true;
    try {
      if (!(await parts.pools.retarget(endpointConfig(pooled, primary)))) return;
      // Failures of the old primary say nothing about the new one.
      if (parts.policy.breakerState() !== 'isolated') parts.policy.reset();
      logger.warn({ primary: endpointKey(primary), generation: topology.generation() }, 'writes go to the new primary');
    } finally {
      following = false;
    }
  };
  await topology.start();

  const context = new DataSourceContext();
  const standbyGateways = new Map<string, { gateway: DatabaseGateway; policy: DatabasePolicy }>();
  const standbyGateway = (key: string, pool: DatabasePool): { gateway: DatabaseGateway; policy: DatabasePolicy } => {
    let entry = standbyGateways.get(key);
    if (entry === undefined) {
      const [host, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      const name = endpointDependencyName(host, port);
      const policy = createDatabasePolicy(config.resilience);
      policy.onBreakerStateChange((state) => deps.breakerStateChanged(name, state));
      const gateway = createDatabaseGateway({
        pools: { current: () => pool },
        policy,
        logger: logger.child({ endpoint: key }),
        statementTimeoutMs: db.statementTimeoutMs,
        ...(deps.observe !== undefined && { observe: deps.observe }),
      });
      gateway.onUnavailable(() => void topology.probeNow());
      entry = { gateway, policy };
      standbyGateways.set(key, entry);
    }
    return entry;
  };
  const standby = (): { gateway: DatabaseGateway; view: EndpointView } | undefined => {
    for (const { view, pool } of topology.readableStandbys()) {
      const entry = standbyGateway(view.key, pool);
      const state = entry.policy.breakerState();
      if (state !== 'open' && state !== 'isolated') return { gateway: entry.gateway, view };
    }
    return undefined;
  };
  const readable = (): boolean => standby() !== undefined;
  // Writes go nowhere but to the chosen primary: not while the pool still points elsewhere (a fenced old primary).
  const primaryKnown = (): boolean => {
    const primary = topology.primary();
    const pooled = primaryParts?.pools.target();
    if (primary === undefined || pooled === undefined || endpointKey(pooled) !== endpointKey(primary)) return false;
    // Unreachable at the last probe: reads go to a standby now rather than after the breaker opens
    // (behind a pooler, a dead server makes queries wait instead of failing).
    return topology.views().find((v) => v.key === endpointKey(primary))?.role === 'primary';
  };

  trackDatabaseEndpoints(
    deps.registry,
    () => topology.views().map((v) => ({ endpoint: v.key, role: v.role, replayTime: v.facts?.replayTime, bytesBehind: v.bytesBehind })),
    () => topology.generation(),
  );

  const aim = (target: DatabaseConfig): DatabaseConfig => {
    const primary = topology.primary();
    return primary === undefined ? target : endpointConfig(target, primary);
  };
  const describeRoles = (): string =>
    topology
      .views()
      .map((v) => `${v.key} ${v.role}`)
      .join(', ');

  return {
    multiHost: true,
    aim,
    requirePrimary(candidate) {
      if (topology.primary() === undefined) {
        throw new StartupError('unreachable', `no primary among the database endpoints (${describeRoles()}); waiting for one`);
      }
      return { ...candidate, db: aim(candidate.db) };
    },
    gateway(primary, parts) {
      primaryParts = parts;
      return createReadRouter({
        primary,
        primaryBreaker: () => parts.policy.breakerState(),
        primaryKnown,
        standby,
        context,
        retryAfterMs: db.healthCheckIntervalMs,
        suspect: () => void topology.probeNow(),
      });
    },
    callScope: dataSourceScope(context),
    healthChecks: db.endpoints.map((endpoint) =>
      createEndpointCheck({
        view: () => {
          const v = topology.views().find((x) => x.key === endpointKey(endpoint))!;
          return {
            host: endpoint.host,
            port: endpoint.port,
            role: v.role,
            replayTime: v.facts?.replayTime,
            bytesBehind: v.bytesBehind,
            errorCode: v.errorCode,
            error: v.error,
          };
        },
        databaseName: db.name,
        intervalMs: db.healthCheckIntervalMs,
        timeoutMs: db.pingTimeoutMs,
      }),
    ),
    standIns: (dependency) => {
      if (dependency !== DATABASE_DEPENDENCY_NAME) return undefined;
      const s = standby();
      return s === undefined ? undefined : `reads served by standby ${s.view.key}; writes unavailable`;
    },
    readiness(gate, connected) {
      const raw = new Map<string, { ok: boolean; reason: string | undefined }>([['database-connected', { ok: connected, reason: undefined }]]);
      const apply = (condition: string): void => {
        const value = raw.get(condition);
        if (value === undefined) return;
        gate.set(condition, value.ok || readable(), value.reason);
      };
      listeners.push(() => {
        for (const condition of raw.keys()) apply(condition);
      });
      apply('database-connected');
      return {
        set(condition, ok, reason) {
          if (!PRIMARY_CONDITIONS.has(condition)) return gate.set(condition, ok, reason);
          raw.set(condition, { ok, reason });
          apply(condition);
        },
      };
    },
    onChange: (listener) => listeners.push(listener),
    choosePrimary: (key) => topology.choose(key),
    views: () => topology.views(),
    generation: () => topology.generation(),
    stop: () => topology.stop(),
  };
}
