import { randomFillSync } from 'node:crypto';
import { INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

/** Random bytes drawn at once: 8 KiB is 341 calls' trace and span ids per refill. */
const POOL_BYTES = 8192;
const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;

/**
 * The trace SDK's id generator, and the one the RPC tracer draws root trace
 * ids from before it asks the sampler (rpcTracing.ts). Ids are hex slices of
 * a pool of crypto-random bytes refilled in blocks: one native call per id
 * instead of the SDK's default (Math.random into a shared Buffer, then hex).
 *
 * `withTraceId` hands the SDK a trace id that was already drawn and sampled:
 * a `generateTraceId` inside it returns that id, so a root span the RPC tracer
 * decided to record gets the id its decision was made on (a ratio sampler
 * decides on the id; deciding again on another id would sample the square of
 * the ratio). The SDK draws the trace id synchronously inside `startSpan`, so
 * nothing else can take it, and it is forgotten once `start` returns.
 */
export class TraceIds implements IdGenerator {
  readonly #pool = Buffer.allocUnsafe(POOL_BYTES);
  #offset = POOL_BYTES;
  #preset: string | undefined;

  generateTraceId(): string {
    const preset = this.#preset;
    if (preset !== undefined) {
      this.#preset = undefined;
      return preset;
    }
    return this.#draw(TRACE_ID_BYTES, INVALID_TRACEID);
  }

  generateSpanId(): string {
    return this.#draw(SPAN_ID_BYTES, INVALID_SPANID);
  }

  /** Runs `start` with `traceId` as what a new root span drawn in it gets (once). */
  withTraceId<T>(traceId: string, start: () => T): T {
    this.#preset = traceId;
    try {
      return start();
    } finally {
      this.#preset = undefined;
    }
  }

  #draw(bytes: number, invalid: string): string {
    if (this.#offset + bytes > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const id = this.#pool.toString('hex', this.#offset, (this.#offset += bytes));
    // An all-zero id is invalid in W3C trace context (a chance of 2^-64 or less): draw again.
    return id === invalid ? this.#draw(bytes, invalid) : id;
  }
}
