import { Registry } from 'prom-client';
import { secretValues, type Config } from './config/config';
import { createServiceMetrics } from './metrics/createServiceMetrics';
import { createBreakerProber } from './app/breakerProber';
import { createCoachingApi } from './app/coachingApi';
import { connectAtStart } from './app/connectAtStart';
import { createDatabase } from './app/database';
import { subscribeDatabaseEvents } from './app/databaseEvents';
import { createEvents } from './app/events';
import { createHealth } from './app/health';
import { startListeners } from './app/listeners';
import { createPublicServer } from './app/publicServer';
import { openPublicTls } from './app/publicTls';
import { reconnectInBackground } from './app/reconnect';
import { createReload, watchPasswordFile } from './app/reload';
import type { RunningService } from './app/RunningService';
import { StartupScope, type ServiceDeps } from './app/ServiceDeps';
import { logServing } from './app/servingLine';
import { createShutdown } from './app/shutdown';
import { startDatabaseEndpoints } from './app/startDatabaseEndpoints';
import { startPager } from './app/pager';
import { createTracing } from './app/tracing';

export { COACHING_SERVICE_NAME } from './app/coachingApi';
export type { RunningService } from './app/RunningService';
export type { ServiceDeps } from './app/ServiceDeps';

/**
 * The composition root shared by main.ts and the tests: each step is one
 * lifecycle module of src/app/, called in order (README "Layout" says how to
 * add one). Fails fast (StartupError, nothing left listening or connected) on
 * problems an operator must fix; an unreachable database only delays
 * readiness unless DB_REQUIRE_ON_STARTUP.
 */
export async function startService(config: Config, deps: ServiceDeps): Promise<RunningService> {
  const { logger, secrets, requestContext } = deps;
  for (const secret of secretValues(config)) secrets.add(secret);
  const metrics = createServiceMetrics(new Registry());
  const scope = new StartupScope();
  try {
    const tls = openPublicTls(config, logger, metrics, scope);
    // Several DB_HOST endpoints: the primary found among them, standbys for reads (a pass-through with one).
    const endpoints = await startDatabaseEndpoints(config, {
      logger,
      registry: metrics.registry,
      breakerStateChanged: (dependency, state) => metrics.breakerState(dependency, state),
      observe: metrics.observeQuery,
    });
    scope.defer(() => endpoints.stop());
    // Reads the database settings in force lazily (statement spans), so it can come before the reload.
    const tracing = createTracing(config, { metrics, logger, secrets, database: () => reloads.current().db }, scope);
    const database = createDatabase(config, logger, metrics, scope, endpoints, tracing.database);
    const reloads = createReload(config, deps, database, metrics);
    const connected = await connectAtStart(config, database, reloads, logger);
    const events = createEvents(config, { db: database.gateway, logger, metrics, requestContext }, scope);
    const api = createCoachingApi(
      config,
      endpoints.gateway(database.gateway, database),
      events.changes,
      logger,
      metrics,
      requestContext,
      tracing.rpc,
      endpoints.callScope,
    );
    const pager = startPager(config, endpoints, reloads, logger);
    scope.defer(() => pager?.stop());
    const health = createHealth(config, {
      database,
      reloads,
      metrics,
      logger,
      secrets,
      requestContext,
      tracing,
      endpoints,
      pager,
      extraChecks: events.jobs.healthChecks,
    });
    const server = createPublicServer(config, { services: [api, health.service], tls, metrics, logger, connected });
    const background = new AbortController();
    const prober = createBreakerProber(config, database.policy, database.gateway, background.signal);
    // With standbys, the primary's readiness conditions hold while a standby serves reads.
    const readiness = endpoints.readiness(server.readiness, connected);
    endpoints.onChange(() => health.monitor.publish());
    subscribeDatabaseEvents(database, { metrics, logger, readiness, health: health.monitor, prober });
    const listeners = await startListeners(
      config,
      { grpc: server.grpc, policy: database.policy, deadLetters: events.jobs.deadLetters, metrics, logger, secrets, requestContext, tracing, endpoints },
      scope,
    );
    reloads.onReload(() => {
      tls.reload();
      listeners.admin?.reload();
    });
    await health.monitor.start(readiness);
    events.jobs.start();
    if (!connected) reconnectInBackground(config, { database, reloads, readiness, logger, signal: background.signal, onFatal: deps.onFatal });
    const unwatch = watchPasswordFile(config, reloads, logger);
    logServing(config, listeners, tls, connected, logger);
    return {
      port: listeners.port,
      pools: database.pools,
      policy: database.policy,
      db: database.gateway,
      grpc: server.grpc,
      readiness: server.readiness,
      health: health.monitor,
      endpoints,
      metricsPort: listeners.metricsServer?.port,
      admin: listeners.admin,
      adminPort: listeners.admin?.port,
      events: events.jobs,
      changes: events.changes,
      configInForce: () => reloads.current(),
      reload: () => reloads.reload(),
      stop: createShutdown(config, {
        server,
        listeners,
        tls,
        health,
        events: events.jobs,
        reloads,
        database,
        tracing,
        background,
        unwatch,
        logger,
        after: [pager, endpoints],
      }),
    };
  } catch (error) {
    await scope.unwind();
    throw error;
  }
}
