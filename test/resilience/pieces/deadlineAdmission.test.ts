/** BoundedWaitBulkheadPolicy.admitting(deadline): a call queues only while its expected wait fits in its deadline. */
import { status } from '@grpc/grpc-js';
import { ResourceExhaustedError } from '../../../src/domain/errors';
import { toStatus } from '../../../src/grpc/errorStatus';
import { BoundedWaitBulkheadPolicy, QueueRejectedError, type QueueRejection } from '../../../src/resilience/BoundedWaitBulkheadPolicy';
import { waitFor } from '../../support/waitFor';

/** Work that runs until released. */
function held() {
  let release: () => void = () => undefined;
  let started = false;
  const done = new Promise<string>((resolve) => {
    release = () => resolve('done');
  });
  return {
    get started() {
      return started;
    },
    release: () => release(),
    fn: (): Promise<string> => {
      started = true;
      return done;
    },
  };
}

/** A bulkhead of one slot whose measured service time is about 200 ms. */
async function measuredBulkhead(queue: number) {
  const policy = new BoundedWaitBulkheadPolicy(1, queue, 10_000);
  const rejected: QueueRejection[] = [];
  policy.onRejected((reason) => rejected.push(reason));
  await policy.execute(() => new Promise((resolve) => setTimeout(resolve, 200)));
  expect(policy.serviceTimeMs()).toBeGreaterThanOrEqual(150);
  return { policy, rejected };
}

/** What `work`, admitted with a deadline `inMs` from now, ended with: the refusal, when it was refused. */
function outcomeOf(policy: BoundedWaitBulkheadPolicy, inMs: number, work = held()): Promise<unknown> {
  return policy
    .admitting(Date.now() + inMs)
    .execute(work.fn)
    .catch((e: unknown) => e);
}

/** Releases the running work, then lets the admitted waiter run to the end. */
async function drain(running: ReturnType<typeof held>, first: Promise<string>, waiter: ReturnType<typeof held>, queued: Promise<string>): Promise<void> {
  running.release();
  await first;
  await waitFor('the admitted call to run', () => waiter.started, 5000);
  waiter.release();
  await expect(queued).resolves.toBe('done');
}

it('refuses at once, with a retry hint, a call whose expected wait does not fit in its deadline; its work never runs', async () => {
  const { policy, rejected } = await measuredBulkhead(10);
  const running = held();
  const first = policy.execute(running.fn);
  const refusedWork = held();
  const started = performance.now();
  const refused = await outcomeOf(policy, 100, refusedWork);
  expect(performance.now() - started).toBeLessThan(50);
  expect(refused).toBeInstanceOf(QueueRejectedError);
  expect((refused as QueueRejectedError).reason).toBe('deadline');
  expect((refused as QueueRejectedError).retryAfterMs).toBeGreaterThanOrEqual(150);
  expect(rejected).toEqual(['deadline']);
  expect(policy.load()).toEqual({ running: 1, queued: 0 });

  // The same wait with time to spare: it queues and runs when the slot frees.
  const patient = held();
  const queued = policy.admitting(Date.now() + 5000).execute(patient.fn);
  expect(policy.load()).toEqual({ running: 1, queued: 1 });
  await drain(running, first, patient, queued);
  expect(refusedWork.started).toBe(false);
});

it('counts the queue ahead: the second waiter needs twice the time of the first', async () => {
  const { policy } = await measuredBulkhead(10);
  const running = held();
  const first = policy.execute(running.fn);
  // ~200 ms ahead plus its own ~200 ms: fits in 900 ms.
  const waiter = held();
  const w1 = policy.admitting(Date.now() + 900).execute(waiter.fn);
  // ~400 ms ahead plus its own ~200 ms: 500 ms is too little.
  const late = await outcomeOf(policy, 500);
  expect((late as QueueRejectedError).reason).toBe('deadline');
  await drain(running, first, waiter, w1);
});

it('the queue stays a hard cap on waiters, whatever the deadline', async () => {
  const { policy, rejected } = await measuredBulkhead(1);
  const running = held();
  const first = policy.execute(running.fn);
  const waiter = held();
  const w1 = policy.admitting(Date.now() + 60_000).execute(waiter.fn);
  const full = await outcomeOf(policy, 60_000);
  expect((full as QueueRejectedError).reason).toBe('queue-full');
  expect(rejected).toEqual(['queue-full']);
  await drain(running, first, waiter, w1);
});

it('RESOURCE_EXHAUSTED carries retry-pushback-ms and RetryInfo', () => {
  const mapped = toStatus(new ResourceExhaustedError('DATABASE_BUSY', 'busy', { retryAfterMs: 120 }), 'corr');
  expect(mapped.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(mapped.metadata.get('retry-pushback-ms')).toEqual(['120']);
  expect(mapped.metadata.get('grpc-retry-pushback-ms')).toEqual(['120']);
});
