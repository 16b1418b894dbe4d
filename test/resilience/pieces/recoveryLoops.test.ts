/** The reconnect loop and the half-open prober of src/resilience, against a real breaker and scripted connections. */
import { breakerSettings } from '../../../src/config/breakerProfiles';
import { DependencyBreakerPolicy } from '../../../src/resilience/DependencyBreakerPolicy';
import { HalfOpenProber } from '../../../src/resilience/HalfOpenProber';
import { reconnectUntilConnected } from '../../../src/resilience/reconnectLoop';
import { waitFor } from '../../support/waitFor';

class Unreachable extends Error {}
class Fatal extends Error {}

describe('reconnectUntilConnected', () => {
  it('retries unreachable failures with backoff until the connection succeeds', async () => {
    let attempts = 0;
    const retries: number[] = [];
    await reconnectUntilConnected(
      () => {
        attempts++;
        return attempts < 4 ? Promise.reject(new Unreachable()) : Promise.resolve();
      },
      { retryable: (e) => e instanceof Unreachable, initialDelayMs: 5, maxDelayMs: 20, signal: new AbortController().signal, onRetry: (n) => retries.push(n) },
    );
    expect(attempts).toBe(4);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('ends with the error that is not retryable, without another attempt', async () => {
    let attempts = 0;
    const fatal = new Fatal();
    const outcome = await reconnectUntilConnected(
      () => {
        attempts++;
        return Promise.reject(attempts === 1 ? new Unreachable() : fatal);
      },
      { retryable: (e) => e instanceof Unreachable, initialDelayMs: 5, maxDelayMs: 20, signal: new AbortController().signal },
    ).catch((error: unknown) => error);
    expect(outcome).toBe(fatal);
    expect(attempts).toBe(2);
  });

  it('stops when its signal aborts', async () => {
    const stop = new AbortController();
    let attempts = 0;
    const loop = reconnectUntilConnected(
      () => {
        attempts++;
        return Promise.reject(new Unreachable());
      },
      { retryable: () => true, initialDelayMs: 5, maxDelayMs: 20, signal: stop.signal },
    ).catch((error: unknown) => error);
    await waitFor('a few attempts', () => attempts >= 2, 5000, 5);
    stop.abort();
    // It ends (with the last failure) and makes no further attempt.
    expect(await loop).toBeInstanceOf(Unreachable);
    const seen = attempts;
    await new Promise((resolve) => setTimeout(resolve, 60)); // three backoff periods: an attempt would have come
    expect(attempts).toBe(seen);
  });
});

describe('HalfOpenProber', () => {
  function openBreaker(recoverySuccesses = 1) {
    const breaker = new DependencyBreakerPolicy(
      breakerSettings('critical', { consecutiveFailures: 1, halfOpenAfterMs: 40, recoverySuccesses }),
      (e) => e instanceof Unreachable,
    );
    return breaker;
  }

  it('sends trials through an open breaker until it closes, then stops', async () => {
    const breaker = openBreaker();
    await breaker.execute(() => Promise.reject(new Unreachable())).catch(() => undefined);
    let up = false;
    let probes = 0;
    const stop = new AbortController();
    const prober = new HalfOpenProber({
      state: () => breaker.state,
      probe: () =>
        breaker.execute(() => {
          probes++;
          return up ? Promise.resolve() : Promise.reject(new Unreachable());
        }),
      intervalMs: 40,
      signal: stop.signal,
    });
    prober.start();
    prober.start(); // idempotent while running
    await waitFor('a failed trial', () => probes >= 1, 5000, 5);
    expect(breaker.state).toBe('open');
    up = true;
    await waitFor('the breaker to close', () => breaker.state === 'closed', 5000, 5);
    await waitFor('the prober to stop', () => !prober.running, 5000, 5);
    const seen = probes;
    expect(seen).toBeGreaterThanOrEqual(2);
    stop.abort();
  });

  it('also carries a gradual recovery to the end without traffic', async () => {
    const breaker = openBreaker(3);
    await breaker.execute(() => Promise.reject(new Unreachable())).catch(() => undefined);
    const stop = new AbortController();
    const prober = new HalfOpenProber({ state: () => breaker.state, probe: () => breaker.execute(() => 'ok'), intervalMs: 20, signal: stop.signal });
    prober.start();
    await waitFor('the breaker to close', () => breaker.state === 'closed', 10_000, 10);
    stop.abort();
  });

  it('stops at once when its signal aborts, without another probe', async () => {
    const breaker = openBreaker();
    await breaker.execute(() => Promise.reject(new Unreachable())).catch(() => undefined);
    const stop = new AbortController();
    let probes = 0;
    const prober = new HalfOpenProber({
      state: () => breaker.state,
      probe: () => {
        probes++;
        return Promise.resolve();
      },
      intervalMs: 10_000,
      signal: stop.signal,
    });
    prober.start();
    stop.abort();
    await waitFor('the prober to stop', () => !prober.running, 2000, 5);
    expect(probes).toBe(0);
  });
});
