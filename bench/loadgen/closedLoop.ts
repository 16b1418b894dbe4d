import { Samples } from '../stats';

/** One call of a workload; rejects with the call's error. */
export type Operation = () => Promise<unknown>;

export interface LoopOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly onMeasuring: () => void;
  readonly onMeasured: () => void;
  /** Turns a failure into a short label (status name, SQLSTATE…). */
  readonly classify: (error: unknown) => string;
}

export interface LoopOutcome {
  readonly latencies: Samples;
  readonly ok: number;
  readonly errors: Record<string, number>;
  readonly seconds: number;
  readonly errorSample?: string;
}

/**
 * A closed loop: `concurrency` workers, each issuing its next call as soon as
 * the previous one finished, so exactly that many calls are in flight. Calls
 * that finish inside the window [warm-up end, warm-up end + duration) count;
 * after the window no new call starts and the loop waits for the last ones.
 */
export async function runClosedLoop(operation: Operation, options: LoopOptions): Promise<LoopOutcome> {
  const latencies = new Samples();
  const errors: Record<string, number> = {};
  let ok = 0;
  let errorSample: string | undefined;
  const start = performance.now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;

  const measuring = setTimeout(options.onMeasuring, options.warmupMs);
  // Whichever comes first: the timer, or a worker that sees the window closed (a busy loop can delay timers).
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    options.onMeasured();
  };
  const measured = setTimeout(close, options.warmupMs + options.durationMs);

  const worker = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      const began = performance.now();
      let failure: unknown;
      let failed = false;
      try {
        await operation();
      } catch (error) {
        failed = true;
        failure = error;
      }
      const ended = performance.now();
      if (ended >= windowEnd) close();
      if (ended < windowStart || ended >= windowEnd) continue;
      latencies.push(ended - began);
      if (!failed) ok++;
      else {
        const label = options.classify(failure);
        errors[label] = (errors[label] ?? 0) + 1;
        errorSample ??= failure instanceof Error ? `${label}: ${failure.message}`.slice(0, 300) : label;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  clearTimeout(measuring);
  clearTimeout(measured);
  return { latencies, ok, errors, seconds: options.durationMs / 1000, ...(errorSample !== undefined && { errorSample }) };
}
