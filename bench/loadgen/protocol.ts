import type { Volume } from '../volume';

/**
 * What a run drives: the service, the bare baseline server, or PostgreSQL through `pg` (unnamed or named
 * statements; for CompleteSession the service's write transaction with and without its outbox statements).
 */
export type Target = 'service' | 'bare' | 'raw-pg' | 'raw-pg-prepared' | 'raw-pg-no-outbox';

/** Everything a load-generator process needs for one run (sent over IPC). */
export interface RunSpec {
  readonly target: Target;
  readonly workload: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** gRPC deadline per call; 0 sends none. */
  readonly deadlineMs: number;
  readonly grpcPort: number;
  readonly databaseUrl: string;
  readonly poolSize: number;
  readonly volume: Volume;
  /** Consumables of this run: the k-range of SCHEDULED sessions to complete, and the first free booking slot. */
  readonly completeFrom: number;
  readonly completeTo: number;
  readonly slotFrom: number;
  readonly seed: number;
}

/** Latency summary in milliseconds. */
export interface Latency {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** What one run measured inside its window. */
export interface LoadResult {
  /** Calls that finished inside the measurement window. */
  readonly calls: number;
  readonly ok: number;
  /** Error counts by gRPC status name (or `pg:<sqlstate>` / exception name for raw runs). */
  readonly errors: Record<string, number>;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latencyMs: Latency;
  /** How many consumables the whole run used (warm-up included). */
  readonly consumed: { readonly completions: number; readonly slots: number };
  readonly loadgenCpuSeconds: number;
  /** A sample of error details, for diagnosis. */
  readonly errorSample?: string;
}

/** `sampled`: the bench has read the server's counters after the window; the load generator may now close its connections. */
export type ToLoadgen = { readonly type: 'run'; readonly spec: RunSpec } | { readonly type: 'sampled' };
export type FromLoadgen =
  | { readonly type: 'measuring' }
  | { readonly type: 'measured' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'failed'; readonly message: string };
