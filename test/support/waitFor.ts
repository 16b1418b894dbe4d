/**
 * Polls `probe` until it returns a value other than undefined or false, or
 * fails after the timeout naming what it waited for and the last error it saw.
 * A bounded wait on a condition, never a sleep standing in for one.
 * The options are `{ timeoutMs, intervalMs }`, or the timeout in ms (then the interval).
 */
export async function waitFor<T>(
  description: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } | number = {},
  everyMs?: number,
): Promise<T> {
  const timeoutMs = typeof options === 'number' ? options : (options.timeoutMs ?? 15_000);
  const intervalMs = typeof options === 'number' ? (everyMs ?? 20) : (options.intervalMs ?? 50);
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) {
      const seen = last === undefined ? '' : `; last error: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
