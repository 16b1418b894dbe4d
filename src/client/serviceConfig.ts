import type { ServiceDefinition } from '@grpc/grpc-js';
import { describeMethods, serviceName } from './methodKinds';

/** Retry settings of the channel (gRPC A6 retry policy); grpc-js caps attempts at 5. */
export interface RetrySettings {
  /** Attempts in all, the first included (2-5); 1 turns retries off. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
}

export const DEFAULT_RETRY: RetrySettings = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 5_000, backoffMultiplier: 2 };

/** Codes that mean "not now" rather than "not this": the server did not (or safely could not) do the work. */
export const RETRYABLE_CODES = ['UNAVAILABLE', 'RESOURCE_EXHAUSTED'] as const;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;

/**
 * The gRPC service config of a channel to `definition`'s service:
 * round_robin over every address the name resolves to (one per ready pod of
 * a headless Service), a default deadline per method, and retries of
 * UNAVAILABLE and RESOURCE_EXHAUSTED with exponential backoff for reads and
 * for writes that carry a request_id (the client always sets one), honouring
 * the server's `grpc-retry-pushback-ms`. Other writes are never retried.
 * Retry throttling stops retry storms when most calls fail.
 */
export function buildServiceConfig(definition: ServiceDefinition, options: { defaultDeadlineMs: number; retry: RetrySettings }): object {
  const service = serviceName(definition);
  const methods = describeMethods(definition);
  const names = (retried: boolean) => methods.filter((m) => (m.kind !== 'write') === retried).map((m) => ({ service, method: m.name }));
  const { retry } = options;
  const retryPolicy = {
    maxAttempts: Math.min(5, Math.max(2, retry.maxAttempts)),
    initialBackoff: seconds(retry.initialBackoffMs),
    maxBackoff: seconds(retry.maxBackoffMs),
    backoffMultiplier: retry.backoffMultiplier,
    retryableStatusCodes: [...RETRYABLE_CODES],
  };
  const timeout = seconds(options.defaultDeadlineMs);
  const retried = names(true);
  const notRetried = names(false);
  return {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      ...(retried.length > 0 ? [{ name: retried, timeout, ...(retry.maxAttempts > 1 && { retryPolicy }) }] : []),
      ...(notRetried.length > 0 ? [{ name: notRetried, timeout }] : []),
    ],
    retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
  };
}
