import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';

export interface ReconnectOptions {
  /** Failures worth another attempt (an unreachable server); any other ends the loop with that error. */
  readonly retryable: (error: unknown) => boolean;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Ends the loop: it rejects (with the last failure) and makes no further attempt. */
  readonly signal: AbortSignal;
  readonly onRetry?: (attempt: number, delayMs: number) => void;
}

/** Tries `connect` until it succeeds, with capped exponential backoff (jitter), for as long as its failures are retryable. */
export function reconnectUntilConnected(connect: () => Promise<void>, options: ReconnectOptions): Promise<void> {
  const policy = retry(handleWhen(options.retryable), {
    maxAttempts: Number.POSITIVE_INFINITY,
    backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs }),
  });
  policy.onRetry((event) => options.onRetry?.(event.attempt, event.delay));
  return policy.execute(() => connect(), options.signal);
}
