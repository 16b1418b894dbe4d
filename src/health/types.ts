/**
 * The health vocabulary shared by the probes, the health API, the metrics and
 * the alerts. Plain data: nothing here knows gRPC or the database driver.
 */

export type HealthStatus = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';
export type DependencyType = 'DATABASE' | 'GRPC_SERVICE' | 'HTTP_SERVICE' | 'CACHE';

/** What one probe found. */
export interface ProbeOutcome {
  readonly status: HealthStatus;
  /** Short human-readable summary, e.g. "Database connection healthy". */
  readonly message: string;
  /** Stable UPPER_SNAKE failure code (metrics label, health event); absent when healthy. */
  readonly errorCode?: string;
  /** Failure detail; sanitised before anyone sees it. */
  readonly error?: string;
}

/** Where a dependency is (never credentials). */
export interface Endpoint {
  readonly hostname: string;
  readonly port: number;
  readonly protocol: string;
  readonly databaseName?: string;
  readonly schemaName?: string;
}

/** A connection pool as it is now. */
export interface PoolInfo {
  readonly maxConnections: number;
  readonly activeConnections: number;
  readonly idleConnections: number;
  readonly waitCount: number;
}

/** One dependency and how to probe it. */
export interface DependencyCheck {
  readonly name: string;
  readonly type: DependencyType;
  readonly critical: boolean;
  readonly endpoint: Endpoint;
  /** Probe interval while healthy. */
  readonly intervalMs: number;
  /** Hard bound of one probe: it fails with TIMEOUT after this. */
  readonly timeoutMs: number;
  /** Probes once. Must settle soon after `signal` aborts; never throws for dependency failures. */
  probe(signal: AbortSignal): Promise<ProbeOutcome>;
  /** Live pool numbers (read when asked, not cached), for dependencies with a pool. */
  poolInfo?(): PoolInfo | undefined;
  /** Circuit breaker state, for dependencies with a breaker. */
  circuitState?(): string;
  /** Releases what the check holds (channels, clients). */
  close?(): void;
}

/** The latest known health of one dependency. */
export interface DependencySnapshot {
  readonly name: string;
  readonly type: DependencyType;
  readonly critical: boolean;
  /** undefined until the first probe finished. */
  readonly status: HealthStatus | undefined;
  readonly message: string;
  /** Sanitised; '' when the latest probe succeeded. */
  readonly error: string;
  readonly errorCode: string;
  readonly endpoint: Endpoint;
  readonly poolInfo: PoolInfo | undefined;
  readonly lastCheck: Date | undefined;
  readonly responseTimeMs: number;
  readonly averageLatencyMs: number;
  readonly lastFailureTime: Date | undefined;
  readonly consecutiveFailures: number;
  readonly circuitState: string;
}

/** The service's health as GetHealth reports it. */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly message: string;
  readonly dependencies: readonly DependencySnapshot[];
  readonly checkedAt: Date | undefined;
  readonly checkDurationMs: number;
}

/** One probe result in the health history. */
export interface HealthEvent {
  /** Increasing sequence number: the page token of ListHealthEvents. */
  readonly seq: number;
  readonly time: Date;
  readonly environment: string;
  readonly dependency: string;
  readonly status: HealthStatus;
  readonly latencyMs: number;
  readonly errorCode: string;
}

/** Traces for the probes (src/tracing implements it; absent when tracing is off). */
export interface ProbeTracing {
  /** Runs one probe as the root span of its own trace (never a child of an RPC). */
  probe(check: DependencyCheck, run: () => Promise<ProbeOutcome>): Promise<ProbeOutcome>;
  /** Writes the active trace context (traceparent, tracestate, baggage) into the headers of an outgoing call. */
  readonly inject: (carrier: Record<string, string>) => void;
  /** Runs an outgoing call outside any probe (the alert webhook) as a client span, with the headers to send. */
  call<T>(name: string, attributes: Record<string, string | number>, run: (headers: Record<string, string>) => Promise<T>): Promise<T>;
}
