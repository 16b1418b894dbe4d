/** DeadlineBudgetPolicy on its own and inside cockatiel's wrap: the budget, the refusal, the expiry and the retry guard. */
import { ConstantBackoff, handleAll, retry, wrap } from 'cockatiel';
import { BudgetExhaustedError, DeadlineBudgetPolicy } from '../../../src/resilience/DeadlineBudgetPolicy';

const phaseOf = (error: unknown): string | undefined => (error instanceof BudgetExhaustedError ? error.phase : undefined);

it('gives the work the time left before the deadline as budgetMs', async () => {
  const budget = new DeadlineBudgetPolicy(Date.now() + 2000, 20);
  const seen = await budget.execute(({ budgetMs }) => budgetMs);
  expect(seen).toBeGreaterThan(1500);
  expect(seen).toBeLessThanOrEqual(2000);
});

it('refuses to start with less than the minimum left, and the work does not run', async () => {
  const budget = new DeadlineBudgetPolicy(Date.now() + 10, 50);
  let ran = false;
  const outcome = await budget
    .execute(() => {
      ran = true;
    })
    .catch((error: unknown) => error);
  expect(phaseOf(outcome)).toBe('too-short');
  expect(ran).toBe(false);
});

it('abandons work still running at the deadline with expired, at about the deadline', async () => {
  const budget = new DeadlineBudgetPolicy(Date.now() + 200, 20);
  const started = Date.now();
  let release: () => void = () => undefined;
  const outcome = await budget.execute(() => new Promise<void>((resolve) => (release = resolve))).catch((error: unknown) => error);
  release();
  const took = Date.now() - started;
  expect(phaseOf(outcome)).toBe('expired');
  expect(took).toBeGreaterThanOrEqual(180);
  expect(took).toBeLessThan(3000);
});

it('passes a result or the work’s own error through unchanged', async () => {
  const budget = new DeadlineBudgetPolicy(Date.now() + 5000, 20);
  await expect(budget.execute(() => 'ok')).resolves.toBe('ok');
  const own = new Error('own');
  await expect(budget.execute(() => Promise.reject(own))).rejects.toBe(own);
});

it('composed with wrap: the retry guard lets the first attempt through and refuses a retry without time left', async () => {
  const budget = new DeadlineBudgetPolicy(Date.now() + 150, 100);
  const attempts: number[] = [];
  const policy = wrap(retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(80) }), budget.retryGuard, budget);
  const outcome = await policy
    .execute(({ budgetMs }) => {
      attempts.push(budgetMs);
      throw new Error('transient');
    })
    .catch((error: unknown) => error);
  // First attempt ran with the budget; after the 80 ms backoff fewer than 100 ms are left: no second attempt.
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toBeGreaterThan(100);
  expect(phaseOf(outcome)).toBe('retry-too-late');
});
