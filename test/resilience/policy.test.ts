/**
 * The database policy (retry → circuit breaker → bulkhead → budget) as pure
 * logic: fake units of work that fail or hang on cue, no database. Policies are
 * configured through the documented environment keys, so the tests also pin
 * what each DB_RETRY_*, DB_BREAKER_*, DB_BULKHEAD_* and DB_MIN_BUDGET_MS means.
 */
import { loadConfig } from '../../src/config/config';
import {
  AlreadyExistsError,
  DeadlineExceededError,
  NotFoundError,
  ResourceExhaustedError,
  TransactionConflictError,
  UnavailableError,
  ValidationError,
  type RetrySafety,
} from '../../src/domain/errors';
import type { ErrorReason } from '../../src/domain/errorReasons';
import { createDatabasePolicy, type BreakerState, type DatabasePolicy, type WorkKind } from '../../src/resilience/createDatabasePolicy';
import { timed } from './support/timed';
import { waitFor } from '../support/waitFor';

/** What the policy reported through its events, in order. */
interface Reported {
  readonly breaker: BreakerState[];
  readonly retries: { reason: string; attempt: number }[];
  readonly rejected: string[];
}

/**
 * A policy configured from environment keys. Unless a test says otherwise:
 * fast retries, a breaker that never opens and a wide bulkhead, so each test
 * exercises one mechanism.
 */
function policyFrom(env: Record<string, string> = {}): { policy: DatabasePolicy; reported: Reported } {
  const config = loadConfig({
    env: {
      APP_ENV: 'test',
      ENV_FILE: '/nonexistent/.env',
      DB_RETRY_INITIAL_DELAY_MS: '1',
      DB_RETRY_MAX_DELAY_MS: '5',
      DB_BREAKER_CONSECUTIVE_FAILURES: '1000',
      ...env,
    },
  });
  const reported: Reported = { breaker: [], retries: [], rejected: [] };
  const policy = createDatabasePolicy(config.resilience);
  policy.onBreakerStateChange((state) => reported.breaker.push(state));
  policy.onRetry(({ reason, attempt }) => reported.retries.push({ reason, attempt }));
  policy.onBulkheadRejected((reason) => reported.rejected.push(reason));
  return { policy, reported };
}

/** Fake database work: throws the scripted failures in turn, then succeeds; records each run's budget. */
function scripted(...failures: Error[]) {
  const budgets: number[] = [];
  const queue = [...failures];
  return {
    budgets,
    get runs() {
      return budgets.length;
    },
    fn: (budgetMs: number): Promise<string> => {
      budgets.push(budgetMs);
      const failure = queue.shift();
      return failure === undefined ? Promise.resolve('done') : Promise.reject(failure);
    },
  };
}

/** Fake work that always fails with the same error. */
function always(error: Error) {
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    fn: (): Promise<string> => {
      runs++;
      return Promise.reject(error);
    },
  };
}

/** Fake work that holds its slot until released. */
function held() {
  let release!: () => void;
  let started = false;
  const done = new Promise<string>((resolve) => {
    release = () => resolve('released');
  });
  return {
    release: () => release(),
    get started() {
      return started;
    },
    fn: (): Promise<string> => {
      started = true;
      return done;
    },
  };
}

const unavailable = (retry?: RetrySafety, reason: ErrorReason = 'DATABASE_UNAVAILABLE'): UnavailableError =>
  new UnavailableError(reason, `database is unavailable (test: ${reason})`, retry === undefined ? {} : { retry });
const inFiveSeconds = (): number => Date.now() + 5_000;

describe('retry', () => {
  const retryable: [string, () => Error, Record<WorkKind, number>][] = [
    ['UnavailableError retry=safe (never ran)', () => unavailable('safe'), { read: 3, 'idempotent-write': 3, write: 3 }],
    ['UnavailableError retry=ambiguous (may have run)', () => unavailable('ambiguous'), { read: 3, 'idempotent-write': 3, write: 1 }],
    ['TransactionConflictError (rolled back)', () => new TransactionConflictError(), { read: 3, 'idempotent-write': 3, write: 3 }],
    ['UnavailableError without retry safety (read-only)', () => unavailable(undefined, 'DATABASE_READ_ONLY'), { read: 1, 'idempotent-write': 1, write: 1 }],
    ['NotFoundError', () => new NotFoundError('Profile', 'p1'), { read: 1, 'idempotent-write': 1, write: 1 }],
    ['AlreadyExistsError', () => new AlreadyExistsError('EMAIL_TAKEN', 'taken'), { read: 1, 'idempotent-write': 1, write: 1 }],
    ['ValidationError', () => new ValidationError([{ field: 'email', description: 'bad' }]), { read: 1, 'idempotent-write': 1, write: 1 }],
    ['DeadlineExceededError', () => new DeadlineExceededError('too slow'), { read: 1, 'idempotent-write': 1, write: 1 }],
    ['a plain Error (a bug)', () => new Error('boom'), { read: 1, 'idempotent-write': 1, write: 1 }],
  ];
  const cases = retryable.flatMap(([name, make, runs]) => (Object.keys(runs) as WorkKind[]).map((kind) => [name, kind, make, runs[kind]] as const));

  it.each(cases)('%s on a %s: %#', async (_name, kind, make, expectedRuns) => {
    const { policy } = policyFrom({ DB_RETRY_MAX_ATTEMPTS: '2' });
    const error = make();
    const work = always(error);
    await expect(policy.execute(kind, inFiveSeconds(), work.fn)).rejects.toBe(error);
    expect(work.runs).toBe(expectedRuns);
  });

  it.each([0, 1, 3])('DB_RETRY_MAX_ATTEMPTS=%i: at most 1 + that many runs, each retry reported', async (maxAttempts) => {
    const { policy, reported } = policyFrom({ DB_RETRY_MAX_ATTEMPTS: String(maxAttempts) });
    const work = always(unavailable('safe'));
    await expect(policy.execute('read', inFiveSeconds(), work.fn)).rejects.toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
    expect(work.runs).toBe(1 + maxAttempts);
    expect(reported.retries.map((r) => r.attempt)).toEqual(Array.from({ length: maxAttempts }, (_, i) => i + 1));
  });

  it('a transient failure followed by success returns the result', async () => {
    const { policy, reported } = policyFrom({ DB_RETRY_MAX_ATTEMPTS: '2' });
    const work = scripted(unavailable('safe'), new TransactionConflictError());
    await expect(policy.execute('write', inFiveSeconds(), work.fn)).resolves.toBe('done');
    expect(work.runs).toBe(3);
    expect(reported.retries).toEqual([
      { reason: 'DATABASE_UNAVAILABLE', attempt: 1 },
      { reason: 'TRANSACTION_CONFLICT', attempt: 2 },
    ]);
  });

  it('never retries an open circuit, even when the breaker opens in the middle of the retries', async () => {
    const { policy, reported } = policyFrom({ DB_RETRY_MAX_ATTEMPTS: '5', DB_BREAKER_CONSECUTIVE_FAILURES: '2', DB_BREAKER_HALF_OPEN_AFTER_MS: '60000' });
    const work = always(unavailable('safe'));
    await expect(policy.execute('read', inFiveSeconds(), work.fn)).rejects.toMatchObject({ reason: 'CIRCUIT_OPEN' });
    // Run 1 fails and is retried, run 2 fails and opens the breaker; the third attempt meets the open circuit and stops there.
    expect(work.runs).toBe(2);
    expect(reported.retries).toHaveLength(2);

    const next = await timed(() => policy.execute('read', inFiveSeconds(), work.fn));
    expect(next.error).toMatchObject({ reason: 'CIRCUIT_OPEN' });
    expect(work.runs).toBe(2);
    expect(reported.retries).toHaveLength(2);
    expect(next.ms).toBeLessThan(100);
  });
});

describe('deadline budget', () => {
  it.each([
    ['less than DB_MIN_BUDGET_MS left', 30],
    ['the deadline already passed', -1_000],
  ])('%s: DeadlineExceededError without running the work', async (_name, leftMs) => {
    const { policy } = policyFrom({ DB_MIN_BUDGET_MS: '50', DB_RETRY_MAX_ATTEMPTS: '3' });
    const work = scripted();
    await expect(policy.execute('read', Date.now() + leftMs, work.fn)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(work.runs).toBe(0);
    expect(policy.breakerState()).toBe('closed');
  });

  it('gives the work the time left before the deadline as its budget', async () => {
    const { policy } = policyFrom();
    const work = scripted();
    await policy.execute('read', Date.now() + 2_000, work.fn);
    expect(work.budgets[0]).toBeGreaterThan(1_500);
    expect(work.budgets[0]).toBeLessThanOrEqual(2_000);
  });

  it('does not start a retry with less than DB_MIN_BUDGET_MS left', async () => {
    const { policy } = policyFrom({ DB_MIN_BUDGET_MS: '100', DB_RETRY_MAX_ATTEMPTS: '5' });
    let runs = 0;
    // One run takes most of the budget, then fails retryably: what is left is below the minimum.
    const slowFailure = (): Promise<string> => {
      runs++;
      return new Promise((_, reject) => setTimeout(() => reject(unavailable('safe')), 320));
    };
    await expect(policy.execute('read', Date.now() + 400, slowFailure)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(runs).toBe(1);
  });

  it('work still running at the deadline is abandoned with DeadlineExceededError at about the deadline', async () => {
    const { policy } = policyFrom({ DB_MIN_BUDGET_MS: '0' });
    const hang = held();
    const outcome = await timed(() => policy.execute('read', Date.now() + 100, hang.fn));
    hang.release();
    expect(outcome.error).toBeInstanceOf(DeadlineExceededError);
    expect(outcome.ms).toBeGreaterThanOrEqual(90);
    expect(outcome.ms).toBeLessThan(1_000);
  });
});

describe('circuit breaker', () => {
  it.each<ErrorReason>(['DATABASE_UNAVAILABLE', 'DATABASE_AUTH_FAILED'])(
    'opens after DB_BREAKER_CONSECUTIVE_FAILURES consecutive %s failures, then fails fast with CIRCUIT_OPEN and a retry hint',
    async (reason) => {
      const { policy, reported } = policyFrom({ DB_BREAKER_CONSECUTIVE_FAILURES: '3', DB_BREAKER_HALF_OPEN_AFTER_MS: '30000', DB_RETRY_MAX_ATTEMPTS: '0' });
      const work = always(unavailable('safe', reason));
      for (let i = 1; i <= 2; i++) {
        await expect(policy.execute('read', inFiveSeconds(), work.fn)).rejects.toMatchObject({ reason });
        expect(policy.breakerState()).toBe('closed');
      }
      await expect(policy.execute('read', inFiveSeconds(), work.fn)).rejects.toMatchObject({ reason });
      expect(policy.breakerState()).toBe('open');
      expect(reported.breaker).toEqual(['open']);

      const healthy = scripted();
      const open = await timed(() => policy.execute('read', inFiveSeconds(), healthy.fn));
      expect(open.error).toBeInstanceOf(UnavailableError);
      const error = open.error as UnavailableError;
      expect(error.reason).toBe('CIRCUIT_OPEN');
      expect(error.message).toMatch(/circuit breaker is open/);
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
      expect(healthy.runs).toBe(0);
      expect(work.runs).toBe(3);
      expect(open.ms).toBeLessThan(100);
    },
  );

  it.each([
    ['NotFoundError', () => new NotFoundError('Profile', 'p1')],
    ['AlreadyExistsError', () => new AlreadyExistsError('EMAIL_TAKEN', 'taken')],
    ['ValidationError', () => new ValidationError([{ field: 'email', description: 'bad' }])],
    ['DeadlineExceededError', () => new DeadlineExceededError('statement timeout')],
    ['UnavailableError DATABASE_READ_ONLY', () => unavailable(undefined, 'DATABASE_READ_ONLY')],
    ['TransactionConflictError', () => new TransactionConflictError()],
    ['a lost connection (DATABASE_UNAVAILABLE, retry=ambiguous: the next connection attempt decides)', () => unavailable('ambiguous')],
  ])('does not count %s: the breaker stays closed and the error passes through unchanged', async (_name, make) => {
    const { policy, reported } = policyFrom({ DB_BREAKER_CONSECUTIVE_FAILURES: '2', DB_RETRY_MAX_ATTEMPTS: '0' });
    const error = make();
    const work = always(error);
    for (let i = 0; i < 6; i++) await expect(policy.execute('write', inFiveSeconds(), work.fn)).rejects.toBe(error);
    expect(work.runs).toBe(6);
    expect(policy.breakerState()).toBe('closed');
    expect(reported.breaker).toEqual([]);
    await expect(policy.execute('read', inFiveSeconds(), scripted().fn)).resolves.toBe('done');
  });

  it('does not count work abandoned at its deadline', async () => {
    const { policy } = policyFrom({ DB_BREAKER_CONSECUTIVE_FAILURES: '2', DB_RETRY_MAX_ATTEMPTS: '0', DB_MIN_BUDGET_MS: '0' });
    const hang = held();
    for (let i = 0; i < 3; i++) await expect(policy.execute('read', Date.now() + 20, hang.fn)).rejects.toBeInstanceOf(DeadlineExceededError);
    hang.release();
    expect(policy.breakerState()).toBe('closed');
  });

  it('goes half-open after DB_BREAKER_HALF_OPEN_AFTER_MS and closes when the trial call succeeds', async () => {
    const halfOpenAfterMs = 100;
    const { policy, reported } = policyFrom({
      DB_BREAKER_CONSECUTIVE_FAILURES: '1',
      DB_BREAKER_HALF_OPEN_AFTER_MS: String(halfOpenAfterMs),
      DB_RETRY_MAX_ATTEMPTS: '0',
    });
    const openedBefore = Date.now();
    await expect(policy.execute('read', inFiveSeconds(), always(unavailable('safe')).fn)).rejects.toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
    expect(policy.breakerState()).toBe('open');

    const healthy = scripted();
    const hints: number[] = [];
    const result = await waitFor(
      'the breaker to let a trial call through',
      async () => {
        try {
          return await policy.execute('read', inFiveSeconds(), healthy.fn);
        } catch (error) {
          if (!(error instanceof UnavailableError) || error.reason !== 'CIRCUIT_OPEN') throw error;
          hints.push(error.retryAfterMs!);
          return undefined;
        }
      },
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    const closedAfter = Date.now() - openedBefore;
    expect(result).toBe('done');
    expect(closedAfter).toBeGreaterThanOrEqual(halfOpenAfterMs);
    expect(hints.length).toBeGreaterThan(0);
    for (const hint of hints) expect(hint).toBeLessThanOrEqual(halfOpenAfterMs);
    // Only the trial ran: the calls rejected while open never reached the work.
    expect(healthy.runs).toBe(1);
    expect(policy.breakerState()).toBe('closed');
    expect(reported.breaker).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again when the half-open trial fails', async () => {
    const { policy, reported } = policyFrom({ DB_BREAKER_CONSECUTIVE_FAILURES: '1', DB_BREAKER_HALF_OPEN_AFTER_MS: '50', DB_RETRY_MAX_ATTEMPTS: '0' });
    const broken = always(unavailable('safe'));
    await expect(policy.execute('read', inFiveSeconds(), broken.fn)).rejects.toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
    await waitFor(
      'a half-open trial to run and fail',
      async () =>
        (await policy.execute('read', inFiveSeconds(), broken.fn).catch((e: UnavailableError) => e.reason)) === 'DATABASE_UNAVAILABLE' ? true : undefined,
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    expect(broken.runs).toBe(2);
    expect(policy.breakerState()).toBe('open');
    expect(reported.breaker).toEqual(['open', 'half-open', 'open']);
  });

  describe('sampling mode (DB_BREAKER_MODE=sampling)', () => {
    // 10 s window with at least 1 call per second: the rate counts once 10 calls were seen.
    const sampling = {
      DB_BREAKER_MODE: 'sampling',
      DB_BREAKER_FAILURE_RATE_PERCENT: '50',
      DB_BREAKER_SAMPLING_DURATION_MS: '10000',
      DB_BREAKER_MINIMUM_RPS: '1',
      DB_RETRY_MAX_ATTEMPTS: '0',
    };
    const succeed = (policy: DatabasePolicy) => expect(policy.execute('read', inFiveSeconds(), scripted().fn)).resolves.toBe('done');
    const fail = (policy: DatabasePolicy) =>
      expect(policy.execute('read', inFiveSeconds(), always(unavailable('safe')).fn)).rejects.toBeInstanceOf(UnavailableError);

    it('opens when the failure rate in the window exceeds DB_BREAKER_FAILURE_RATE_PERCENT, not before', async () => {
      const { policy, reported } = policyFrom(sampling);
      for (let i = 0; i < 6; i++) await succeed(policy);
      for (let i = 0; i < 4; i++) await fail(policy); // 4 of 10
      for (let i = 0; i < 2; i++) await fail(policy); // 6 of 12: at the threshold, not above it
      expect(policy.breakerState()).toBe('closed');
      await fail(policy); // 7 of 13
      expect(policy.breakerState()).toBe('open');
      expect(reported.breaker).toEqual(['open']);
      await expect(policy.execute('read', inFiveSeconds(), scripted().fn)).rejects.toMatchObject({ reason: 'CIRCUIT_OPEN' });
    });

    it('does not open below the minimum throughput, however many of the calls fail', async () => {
      const { policy } = policyFrom(sampling);
      for (let i = 0; i < 9; i++) await fail(policy);
      expect(policy.breakerState()).toBe('closed');
      await fail(policy);
      expect(policy.breakerState()).toBe('open');
    });
  });

  it('isolate() holds it open with CIRCUIT_ISOLATED; reset() closes it', async () => {
    const { policy, reported } = policyFrom();
    const work = scripted();
    policy.isolate();
    expect(policy.breakerState()).toBe('isolated');
    const isolated = await timed(() => policy.execute('read', inFiveSeconds(), work.fn));
    expect(isolated.error).toBeInstanceOf(UnavailableError);
    expect(isolated.error).toMatchObject({ reason: 'CIRCUIT_ISOLATED', message: expect.stringMatching(/operator/) });
    expect(work.runs).toBe(0);

    policy.reset();
    expect(policy.breakerState()).toBe('closed');
    await expect(policy.execute('read', inFiveSeconds(), work.fn)).resolves.toBe('done');
    expect(work.runs).toBe(1);
    expect(reported.breaker).toEqual(['isolated', 'closed']);
  });

  it('reset() closes an open breaker at once, without waiting for half-open', async () => {
    const { policy, reported } = policyFrom({ DB_BREAKER_CONSECUTIVE_FAILURES: '1', DB_BREAKER_HALF_OPEN_AFTER_MS: '600000', DB_RETRY_MAX_ATTEMPTS: '0' });
    await expect(policy.execute('read', inFiveSeconds(), always(unavailable('safe')).fn)).rejects.toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
    expect(policy.breakerState()).toBe('open');
    policy.reset();
    expect(policy.breakerState()).toBe('closed');
    await expect(policy.execute('read', inFiveSeconds(), scripted().fn)).resolves.toBe('done');
    expect(reported.breaker).toEqual(['open', 'closed']);
  });
});

describe('bulkhead (DB_MAX_CONNECTIONS running + DB_BULKHEAD_QUEUE waiting)', () => {
  it('rejects the call beyond limit + queue at once with DATABASE_BUSY, runs the queued one when a slot frees', async () => {
    const { policy, reported } = policyFrom({
      DB_MAX_CONNECTIONS: '2',
      DB_MAX_IDLE_CONNECTIONS: '2',
      DB_BULKHEAD_QUEUE: '1',
      DB_BULKHEAD_QUEUE_TIMEOUT_MS: '10000',
      DB_RETRY_MAX_ATTEMPTS: '2',
      DB_BREAKER_CONSECUTIVE_FAILURES: '1',
    });
    const first = held();
    const second = held();
    const running = [policy.execute('read', inFiveSeconds(), first.fn), policy.execute('read', inFiveSeconds(), second.fn)];
    await waitFor('both slots to be taken', () => (first.started && second.started ? true : undefined));
    const queuedWork = scripted();
    const queued = policy.execute('read', inFiveSeconds(), queuedWork.fn);
    await waitFor('the third call to wait in the queue', () => (policy.load().queued === 1 ? true : undefined));
    expect(policy.load()).toEqual({ running: 2, queued: 1 });

    const overflowWork = scripted();
    const overflow = await timed(() => policy.execute('read', inFiveSeconds(), overflowWork.fn));
    expect(overflow.error).toBeInstanceOf(ResourceExhaustedError);
    expect(overflow.error).toMatchObject({ reason: 'DATABASE_BUSY', message: expect.stringMatching(/queue is full/) });
    expect(overflow.ms).toBeLessThan(50);
    expect(overflowWork.runs).toBe(0);
    expect(reported.rejected).toEqual(['queue-full']);
    // Busy is neither retried nor an infrastructure failure.
    expect(reported.retries).toEqual([]);
    expect(policy.breakerState()).toBe('closed');
    expect(queuedWork.runs).toBe(0);

    first.release();
    await expect(queued).resolves.toBe('done');
    expect(queuedWork.runs).toBe(1);
    second.release();
    await expect(Promise.all(running)).resolves.toEqual(['released', 'released']);
    expect(policy.load()).toEqual({ running: 0, queued: 0 });
  });

  it('a call queued longer than DB_BULKHEAD_QUEUE_TIMEOUT_MS gets DATABASE_BUSY at about that time, and its work never runs', async () => {
    const { policy, reported } = policyFrom({
      DB_MAX_CONNECTIONS: '1',
      DB_MAX_IDLE_CONNECTIONS: '1',
      DB_BULKHEAD_QUEUE: '1',
      DB_BULKHEAD_QUEUE_TIMEOUT_MS: '100',
    });
    const holder = held();
    const holding = policy.execute('write', inFiveSeconds(), holder.fn);
    await waitFor('the only slot to be taken', () => (holder.started ? true : undefined));

    const waiting = scripted();
    const outcome = await timed(() => policy.execute('write', inFiveSeconds(), waiting.fn));
    expect(outcome.error).toBeInstanceOf(ResourceExhaustedError);
    expect(outcome.error).toMatchObject({ reason: 'DATABASE_BUSY', message: expect.stringContaining('within 100 ms') });
    expect(outcome.ms).toBeGreaterThanOrEqual(90);
    expect(outcome.ms).toBeLessThan(1_000);
    expect(reported.rejected).toEqual(['queue-timeout']);
    expect(policy.load()).toEqual({ running: 1, queued: 0 });

    // The slot frees up: the abandoned entry is skipped, the next caller runs, and the timed-out work stays unrun.
    holder.release();
    await expect(holding).resolves.toBe('released');
    const after = scripted();
    await expect(policy.execute('write', inFiveSeconds(), after.fn)).resolves.toBe('done');
    expect(after.runs).toBe(1);
    expect(waiting.runs).toBe(0);
    expect(policy.load()).toEqual({ running: 0, queued: 0 });
  });
});
