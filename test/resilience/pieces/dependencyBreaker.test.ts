/** DependencyBreakerPolicy on its own: settings by criticality, and gradual recovery after the half-open trial. */
import { BrokenCircuitError } from 'cockatiel';
import { BREAKER_PROFILES, breakerSettings } from '../../../src/config/breakerProfiles';
import { DependencyBreakerPolicy, RecoveryHeldBackError, type BreakerState } from '../../../src/resilience/DependencyBreakerPolicy';
import { waitFor } from '../../support/waitFor';

class Down extends Error {}
const isFailure = (error: unknown): boolean => error instanceof Down;

function breakerWith(settings: Parameters<typeof breakerSettings>[1] & object, criticality: 'critical' | 'optional' = 'critical') {
  const breaker = new DependencyBreakerPolicy(breakerSettings(criticality, settings), isFailure);
  const states: BreakerState[] = [];
  breaker.onStateChange((state) => states.push(state));
  return { breaker, states };
}

const fail = (breaker: DependencyBreakerPolicy) => breaker.execute(() => Promise.reject(new Down())).catch((error: unknown) => error);
const succeed = (breaker: DependencyBreakerPolicy) => breaker.execute(() => 'ok').catch((error: unknown) => error);

/** Failures in a row until the breaker opens (at most `limit`). */
async function failuresToOpen(breaker: DependencyBreakerPolicy, limit = 50): Promise<number> {
  for (let n = 1; n <= limit; n++) {
    await fail(breaker);
    if (breaker.state === 'open') return n;
  }
  return Number.POSITIVE_INFINITY;
}

describe('settings by criticality', () => {
  it('a critical dependency opens after 5 failures in a row, an optional one after 3', async () => {
    expect(await failuresToOpen(breakerWith({}, 'critical').breaker)).toBe(BREAKER_PROFILES.critical.consecutiveFailures);
    expect(await failuresToOpen(breakerWith({}, 'optional').breaker)).toBe(BREAKER_PROFILES.optional.consecutiveFailures);
    expect(BREAKER_PROFILES.critical.consecutiveFailures).toBe(5);
    expect(BREAKER_PROFILES.optional.consecutiveFailures).toBe(3);
    // An optional dependency stays open longer and recovers gradually.
    expect(BREAKER_PROFILES.optional.halfOpenAfterMs).toBeGreaterThan(BREAKER_PROFILES.critical.halfOpenAfterMs);
    expect(BREAKER_PROFILES.optional.recoverySuccesses).toBeGreaterThan(1);
  });

  it('a dependency’s own settings override its profile, and only the keys it sets', async () => {
    const settings = breakerSettings('optional', { consecutiveFailures: 7 });
    expect(settings).toEqual({ ...BREAKER_PROFILES.optional, consecutiveFailures: 7 });
    expect(await failuresToOpen(new DependencyBreakerPolicy(settings, isFailure))).toBe(7);
  });

  it('only failures the dependency declares count', async () => {
    const { breaker } = breakerWith({ consecutiveFailures: 2 });
    for (let i = 0; i < 5; i++) await breaker.execute(() => Promise.reject(new Error('a query error'))).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });
});

describe('recovery', () => {
  it('with recoverySuccesses 1 the successful trial closes it at once', async () => {
    const { breaker, states } = breakerWith({ consecutiveFailures: 1, halfOpenAfterMs: 50, recoverySuccesses: 1 });
    await fail(breaker);
    expect(await succeed(breaker)).toBeInstanceOf(BrokenCircuitError);
    await waitFor('the half-open delay', () => breaker.retryAfterMs() === 0, 2000, 10);
    expect(await succeed(breaker)).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('with recoverySuccesses N it stays half-open after the trial, lets k of N calls through after k successes, and closes after N', async () => {
    const { breaker, states } = breakerWith({ consecutiveFailures: 1, halfOpenAfterMs: 50, recoverySuccesses: 4 });
    await fail(breaker);
    await waitFor('the half-open delay', () => breaker.retryAfterMs() === 0, 2000, 10);
    expect(await succeed(breaker)).toBe('ok'); // the trial: 1 success
    expect(breaker.state).toBe('half-open');
    expect(states).toEqual(['open', 'half-open']);

    const outcomes: string[] = [];
    while (breaker.state !== 'closed' && outcomes.length < 50) {
      const outcome = await succeed(breaker);
      outcomes.push(outcome === 'ok' ? 'run' : outcome instanceof RecoveryHeldBackError ? 'held' : String(outcome));
    }
    // 1 of 4 let through, then 2 of 4, then 3 of 4: the share grows with each success.
    expect(outcomes).toEqual(['held', 'held', 'held', 'run', 'held', 'run', 'held', 'run']);
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    // Closed: every call runs.
    expect(await Promise.all([succeed(breaker), succeed(breaker), succeed(breaker)])).toEqual(['ok', 'ok', 'ok']);
  });

  it('a failure while recovering opens it again at once, and the next trial starts a new recovery', async () => {
    const { breaker, states } = breakerWith({ consecutiveFailures: 3, halfOpenAfterMs: 50, recoverySuccesses: 2 });
    for (let i = 0; i < 3; i++) await fail(breaker);
    await waitFor('the half-open delay', () => breaker.retryAfterMs() === 0, 2000, 10);
    expect(await succeed(breaker)).toBe('ok');
    expect(breaker.state).toBe('half-open');
    // 1 of 2: the first call is held back, the second runs and fails.
    expect(await fail(breaker)).toBeInstanceOf(RecoveryHeldBackError);
    expect(await fail(breaker)).toBeInstanceOf(Down);
    expect(breaker.state).toBe('open');
    expect(await succeed(breaker)).toBeInstanceOf(BrokenCircuitError);
    expect(breaker.retryAfterMs()).toBeGreaterThan(0);
    await waitFor('the next half-open delay', () => breaker.retryAfterMs() === 0, 2000, 10);
    expect(await succeed(breaker)).toBe('ok');
    expect(breaker.state).toBe('half-open');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open']);
  });

  it('reset() ends a recovery and closes it; isolate() holds it open', async () => {
    const { breaker, states } = breakerWith({ consecutiveFailures: 1, halfOpenAfterMs: 50, recoverySuccesses: 5 });
    await fail(breaker);
    await waitFor('the half-open delay', () => breaker.retryAfterMs() === 0, 2000, 10);
    await succeed(breaker);
    expect(breaker.state).toBe('half-open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(await succeed(breaker)).toBe('ok');
    breaker.isolate();
    expect(breaker.state).toBe('isolated');
    breaker.reset();
    expect(states).toEqual(['open', 'half-open', 'closed', 'isolated', 'closed']);
  });
});
