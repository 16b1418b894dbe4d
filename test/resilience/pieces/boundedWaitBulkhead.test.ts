/** BoundedWaitBulkheadPolicy on its own: cockatiel's bulkhead plus a bound on the queue wait. */
import { waitFor } from '../../support/waitFor';
import { BoundedWaitBulkheadPolicy, QueueRejectedError, type QueueRejection } from '../../../src/resilience/BoundedWaitBulkheadPolicy';

/** Work that runs until released; records that it started. */
function held() {
  let release: (value: string) => void = () => undefined;
  let started = false;
  const done = new Promise<string>((resolve) => {
    release = resolve;
  });
  return {
    get started() {
      return started;
    },
    release: (value = 'done') => release(value),
    fn: (): Promise<string> => {
      started = true;
      return done;
    },
  };
}

function bulkheadWith(limit: number, queue: number, maxWaitMs: number) {
  const policy = new BoundedWaitBulkheadPolicy(limit, queue, maxWaitMs);
  const rejected: QueueRejection[] = [];
  policy.onRejected((reason) => rejected.push(reason));
  return { policy, rejected };
}

it('runs up to the limit at once, queues the next, and runs it when a slot frees', async () => {
  const { policy, rejected } = bulkheadWith(1, 1, 5000);
  const first = held();
  const second = held();
  const running = policy.execute(first.fn);
  const queued = policy.execute(second.fn);
  expect(policy.load()).toEqual({ running: 1, queued: 1 });
  expect(second.started).toBe(false);
  first.release('one');
  await expect(running).resolves.toBe('one');
  await waitFor('the queued work to start', () => second.started, 5000);
  second.release('two');
  await expect(queued).resolves.toBe('two');
  expect(second.started).toBe(true);
  expect(policy.load()).toEqual({ running: 0, queued: 0 });
  expect(rejected).toEqual([]);
});

it('refuses at once with queue-full beyond limit + queue, and the refused work never runs', async () => {
  const { policy, rejected } = bulkheadWith(1, 1, 5000);
  const first = held();
  const second = held();
  const third = held();
  const running = policy.execute(first.fn);
  const queued = policy.execute(second.fn);
  const started = Date.now();
  const refused = await policy.execute(third.fn).catch((error: unknown) => error);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(refused).toBeInstanceOf(QueueRejectedError);
  expect((refused as QueueRejectedError).reason).toBe('queue-full');
  expect(rejected).toEqual(['queue-full']);
  first.release();
  second.release();
  await Promise.all([running, queued]);
  expect(third.started).toBe(false);
});

it('a call queued longer than maxWaitMs leaves with queue-timeout at about that time, and its work never runs', async () => {
  const { policy, rejected } = bulkheadWith(1, 1, 150);
  const first = held();
  const second = held();
  const running = policy.execute(first.fn);
  const started = Date.now();
  const outcome = await policy.execute(second.fn).catch((error: unknown) => error);
  const waited = Date.now() - started;
  expect(outcome).toBeInstanceOf(QueueRejectedError);
  expect((outcome as QueueRejectedError).reason).toBe('queue-timeout');
  expect(waited).toBeGreaterThanOrEqual(140);
  expect(waited).toBeLessThan(2000);
  expect(policy.load()).toEqual({ running: 1, queued: 0 });
  first.release();
  await running;
  // The slot is free now; the abandoned entry must not run in it.
  await expect(policy.execute(() => 'after')).resolves.toBe('after');
  expect(second.started).toBe(false);
  expect(rejected).toEqual(['queue-timeout']);
});
