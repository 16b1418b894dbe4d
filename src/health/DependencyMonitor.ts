import type { DependencyCheck, DependencySnapshot, HealthStatus, ProbeOutcome } from './types';

/** Probes kept for average_latency_ms. */
const LATENCY_WINDOW = 20;
/** Longest failure detail kept; enough for a driver message, short enough for a log line. */
const MAX_ERROR_LENGTH = 300;

/** One finished probe, with the snapshot before and after it. */
export interface ProbeRecord {
  readonly check: DependencyCheck;
  readonly outcome: ProbeOutcome;
  readonly durationMs: number;
  readonly finishedAt: Date;
  readonly previous: DependencySnapshot;
  readonly current: DependencySnapshot;
}

export interface DependencyMonitorOptions {
  /** Probe interval while the latest probe failed (shorter than the check's own interval). */
  readonly failingIntervalMs: number;
  /** Removes credentials and secrets from failure text. */
  readonly sanitize: (text: string) => string;
  /** Called after every probe, in order. */
  readonly onProbe: (record: ProbeRecord) => void;
  /** Called when recording or reporting a probe threw; probing goes on regardless. */
  readonly onError: (error: unknown) => void;
}

/**
 * Probes one dependency in the background and keeps its latest state. A probe
 * never outlives the check's timeout: the monitor aborts it and records a
 * TIMEOUT, so a hanging dependency cannot stall the loop. While the latest
 * probe failed, the next one comes after the (shorter) failing interval, so
 * that N failures in a row, and the alert, come quickly.
 */
export class DependencyMonitor {
  #status: HealthStatus | undefined;
  #message = 'Not probed yet';
  #error = '';
  #errorCode = '';
  #lastCheck: Date | undefined;
  #responseTimeMs = 0;
  readonly #latencies: number[] = [];
  #lastFailureTime: Date | undefined;
  #consecutiveFailures = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: AbortController | undefined;
  #stopped = false;

  constructor(
    readonly check: DependencyCheck,
    private readonly options: DependencyMonitorOptions,
  ) {}

  /** Probes now, then keeps probing on schedule until stopped. Resolves after the first probe. */
  async start(): Promise<void> {
    await this.#runAndSchedule();
  }

  /**
   * Something on the request path suggests the dependency is failing: probe
   * now instead of at the next regular interval (no-op while a probe runs or
   * while already re-probing at the failing interval).
   */
  probeSoon(): void {
    if (this.#stopped || this.#inFlight !== undefined || this.#status === 'UNHEALTHY' || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#runAndSchedule(), 0);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#inFlight?.abort();
    this.check.close?.();
  }

  snapshot(): DependencySnapshot {
    const latencies = this.#latencies;
    return {
      name: this.check.name,
      type: this.check.type,
      critical: this.check.critical,
      status: this.#status,
      message: this.#message,
      error: this.#error,
      errorCode: this.#errorCode,
      endpoint: this.check.endpoint,
      poolInfo: this.check.poolInfo?.(),
      lastCheck: this.#lastCheck,
      responseTimeMs: this.#responseTimeMs,
      averageLatencyMs: latencies.length === 0 ? 0 : Math.round((latencies.reduce((a, b) => a + b, 0) / latencies.length) * 100) / 100,
      lastFailureTime: this.#lastFailureTime,
      consecutiveFailures: this.#consecutiveFailures,
      circuitState: this.check.circuitState?.() ?? '',
    };
  }

  async #runAndSchedule(): Promise<void> {
    const started = performance.now();
    try {
      await this.#probeOnce();
    } catch (error) {
      this.options.onError(error);
    }
    if (this.#stopped) return;
    const interval = this.#status === 'UNHEALTHY' ? this.options.failingIntervalMs : this.check.intervalMs;
    // The interval runs from the start of a probe, so a slow probe does not stretch detection.
    const delay = Math.max(0, interval - (performance.now() - started));
    this.#timer = setTimeout(() => void this.#runAndSchedule(), delay);
    this.#timer.unref();
  }

  async #probeOnce(): Promise<void> {
    const previous = this.snapshot();
    const controller = new AbortController();
    this.#inFlight = controller;
    const started = performance.now();
    const outcome = await this.#bounded(controller);
    this.#inFlight = undefined;
    if (this.#stopped) return;
    const durationMs = Math.round(performance.now() - started);
    const finishedAt = new Date();

    this.#status = outcome.status;
    this.#message = outcome.message;
    this.#error = outcome.error === undefined ? '' : this.options.sanitize(outcome.error).slice(0, MAX_ERROR_LENGTH);
    this.#errorCode = outcome.errorCode ?? '';
    this.#lastCheck = finishedAt;
    this.#responseTimeMs = durationMs;
    this.#latencies.push(durationMs);
    if (this.#latencies.length > LATENCY_WINDOW) this.#latencies.shift();
    if (outcome.status === 'UNHEALTHY') {
      this.#consecutiveFailures += 1;
      this.#lastFailureTime = finishedAt;
    } else {
      this.#consecutiveFailures = 0;
    }
    this.options.onProbe({ check: this.check, outcome, durationMs, finishedAt, previous, current: this.snapshot() });
  }

  /** The check's probe, raced against its timeout; a throwing check counts as a failure. */
  async #bounded(controller: AbortController): Promise<ProbeOutcome> {
    const { timeoutMs, name } = this.check;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ProbeOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({
          status: 'UNHEALTHY',
          message: `${name} did not answer within ${timeoutMs} ms`,
          errorCode: 'TIMEOUT',
          error: `probe timed out after ${timeoutMs} ms`,
        });
      }, timeoutMs);
    });
    const probe = this.check.probe(controller.signal).catch((error: unknown): ProbeOutcome => ({
      status: 'UNHEALTHY',
      message: `${name} probe failed`,
      errorCode: 'PROBE_ERROR',
      error: error instanceof Error ? error.message : String(error),
    }));
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
