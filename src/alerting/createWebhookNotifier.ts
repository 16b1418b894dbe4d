import type { Logger } from 'pino';

export interface WebhookNotifierOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Attempts per notification, the first included. */
  readonly maxAttempts: number;
  /** Backoff before the 2nd attempt; doubles each time up to maxBackoffMs (with jitter). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly logger: Logger;
  readonly onAttempt?: (outcome: 'delivered' | 'retried' | 'failed') => void;
  /** Each attempt a client span whose trace context goes out in the request headers (absent when tracing is off). */
  readonly tracing?: {
    call<T>(name: string, attributes: Record<string, string | number>, run: (headers: Record<string, string>) => Promise<T>): Promise<T>;
  };
}

export interface WebhookNotifier {
  /** Queues a JSON POST and returns at once; never throws, never blocks the caller. */
  send(payload: Readonly<Record<string, unknown>>): void;
  /** Gives up pending deliveries (shutdown). */
  close(): void;
}

/** Notifications waiting beyond this are dropped: a dead webhook must not grow memory. */
const MAX_QUEUED = 50;

const retryable = (status: number): boolean => status >= 500 || status === 408 || status === 429;

/**
 * Fire-and-forget JSON POSTs with bounded retries and exponential backoff.
 * Deliveries run one at a time, in order, so a "resolved" never overtakes
 * its "firing". The URL may carry a token: only its origin is logged.
 */
export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const { logger } = options;
  const origin = new URL(options.url).origin;
  const initial = options.initialBackoffMs ?? 500;
  const max = options.maxBackoffMs ?? 10_000;
  const closing = new AbortController();
  let queued = 0;
  let chain: Promise<void> = Promise.resolve();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      closing.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  const deliver = async (body: string, alert: unknown): Promise<void> => {
    for (let attempt = 1; attempt <= options.maxAttempts && !closing.signal.aborted; attempt++) {
      let problem: string;
      let again: boolean;
      try {
        const post = (traceHeaders: Record<string, string>): Promise<Response> =>
          fetch(options.url, {
            method: 'POST',
            headers: { ...traceHeaders, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), closing.signal]),
          });
        const response = await (options.tracing === undefined
          ? post({})
          : options.tracing.call(
              'alert.webhook POST',
              { 'http.request.method': 'POST', 'server.address': new URL(options.url).hostname, 'alert.attempt': attempt },
              post,
            ));
        await response.body?.cancel();
        if (response.ok) {
          options.onAttempt?.('delivered');
          logger.debug({ webhook: origin, alert, attempt }, 'alert webhook delivered');
          return;
        }
        problem = `HTTP ${response.status}`;
        again = retryable(response.status);
      } catch (error) {
        const code = (error as { cause?: { code?: unknown } }).cause?.code;
        problem = typeof code === 'string' ? code : error instanceof Error ? error.name : 'error';
        again = true;
      }
      if (!again || attempt === options.maxAttempts) {
        options.onAttempt?.('failed');
        logger.error({ webhook: origin, alert, attempt, problem }, 'alert webhook not delivered; giving up');
        return;
      }
      options.onAttempt?.('retried');
      logger.warn({ webhook: origin, alert, attempt, problem }, 'alert webhook failed; retrying');
      const backoff = Math.min(max, initial * 2 ** (attempt - 1));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  };

  return {
    send(payload) {
      if (closing.signal.aborted) return;
      if (queued >= MAX_QUEUED) {
        logger.error({ webhook: origin, alert: payload.alert }, 'alert webhook queue full; notification dropped');
        return;
      }
      queued += 1;
      const body = JSON.stringify(payload);
      chain = chain.then(() => deliver(body, payload.alert)).finally(() => (queued -= 1));
    },
    close() {
      closing.abort();
    },
  };
}
