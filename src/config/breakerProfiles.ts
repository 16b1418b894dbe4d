/** How much the service needs a dependency: without a critical one it cannot serve; without an optional one it degrades. */
export type Criticality = 'critical' | 'optional';

/** The circuit breaker of one dependency. */
export interface BreakerSettings {
  /** `consecutive`: opens after `consecutiveFailures` in a row; `sampling`: on the failure rate over a window. */
  readonly mode: 'consecutive' | 'sampling';
  readonly consecutiveFailures: number;
  /** 0 to 1. */
  readonly failureRate: number;
  readonly samplingDurationMs: number;
  readonly minimumRps: number;
  /** How long it fails fast before a trial call. */
  readonly halfOpenAfterMs: number;
  /**
   * Successes (the trial included) before it closes. Above 1, recovery is
   * gradual: after the trial a growing share of calls is let through (k of N
   * after k successes), the others fail fast, and any failure opens it again.
   */
  readonly recoverySuccesses: number;
}

/**
 * Breaker defaults by criticality (README "Circuit breaker"). A critical
 * dependency (the database) is an outage of the whole service while its
 * breaker is open: it opens only on a clear pattern and tries again soon. An
 * optional one is cheap to do without: it opens early, keeps off a
 * struggling dependency longer, and lets traffic back gradually.
 */
export const BREAKER_PROFILES: Readonly<Record<Criticality, BreakerSettings>> = Object.freeze({
  critical: {
    mode: 'consecutive',
    consecutiveFailures: 5,
    failureRate: 0.5,
    samplingDurationMs: 10_000,
    minimumRps: 5,
    halfOpenAfterMs: 2000,
    recoverySuccesses: 1,
  },
  optional: {
    mode: 'consecutive',
    consecutiveFailures: 3,
    failureRate: 0.25,
    samplingDurationMs: 10_000,
    minimumRps: 1,
    halfOpenAfterMs: 10_000,
    recoverySuccesses: 5,
  },
});

/** A dependency's breaker: its criticality's profile with its own configured keys on top. */
export function breakerSettings(criticality: Criticality, overrides: Partial<BreakerSettings> = {}): BreakerSettings {
  return Object.freeze({ ...BREAKER_PROFILES[criticality], ...overrides });
}
