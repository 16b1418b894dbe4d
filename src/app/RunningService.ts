import type { AdminListener } from '../admin/startAdminListener';
import type { Config } from '../config/config';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import type { PoolManager, ReloadOutcome } from '../db/PoolManager';
import type { GrpcServer } from '../grpc/createGrpcServer';
import type { ReadinessGate } from '../grpc/ReadinessGate';
import type { HealthMonitor } from '../health/createHealthMonitor';
import type { DatabasePolicy } from '../resilience/createDatabasePolicy';
import type { EventJobs } from '../events/startEventJobs';
import type { ChangeLog } from '../services/changeLog';
import type { DatabaseEndpoints } from './startDatabaseEndpoints';

/** A running service: its bound port, its parts for tests and operators, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly pools: PoolManager;
  readonly policy: DatabasePolicy;
  readonly db: DatabaseGateway;
  readonly grpc: GrpcServer;
  readonly readiness: ReadinessGate;
  readonly health: HealthMonitor;
  /** The database endpoints (several DB_HOST entries) and their roles; a pass-through with one. */
  readonly endpoints: DatabaseEndpoints;
  /** Port of the /metrics endpoint; undefined when METRICS_ENABLED=false. */
  readonly metricsPort: number | undefined;
  /** The admin listener (coaching.admin.v1.AdminService); undefined when ADMIN_GRPC_ENABLED=false. */
  readonly admin: AdminListener | undefined;
  readonly adminPort: number | undefined;
  /** Domain events: relay, dead letters, retention (src/events). */
  readonly events: EventJobs;
  /** Where writes append their events (the seed uses it too). */
  readonly changes: ChangeLog;
  /** The configuration in force (the start one, with the database settings of the latest applied reload). */
  configInForce(): Config;
  /**
   * Re-reads the configuration, runs the startup checks against the new
   * database target and swaps in a new pool; the old one keeps serving if
   * anything fails. Also re-reads the TLS certificates and the admin token.
   */
  reload(): Promise<ReloadOutcome>;
  /** Readiness off, drain delay, stop accepting, finish in-flight calls (bounded), close the pool. */
  stop(): Promise<void>;
}
