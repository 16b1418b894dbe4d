import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Why a span never reached the collector. */
export type DropReason = 'queue-full' | 'export-failed';

/** What the monitor reports (metrics, the otel-collector health check). */
export interface ExportEvents {
  exported?(count: number): void;
  dropped?(reason: DropReason, count: number): void;
}

/** The latest export, for the otel-collector health check. */
export interface ExportState {
  readonly exported: number;
  readonly dropped: number;
  /** undefined until the first export finished. */
  readonly lastOk: boolean | undefined;
  readonly lastError: string;
  readonly lastExportAt: Date | undefined;
}

/**
 * Between the tracer and the batch processor: counts every span exported or
 * dropped, and keeps the number waiting bounded by `maxQueueSize` itself (the
 * batch processor drops silently once its queue is full, so it would count
 * nothing). A collector that is down, slow or refusing costs the RPC path one
 * comparison per span: spans beyond the bound are dropped, never awaited.
 */
export class SpanExportMonitor implements SpanProcessor {
  #pending = 0;
  #exported = 0;
  #dropped = 0;
  #lastOk: boolean | undefined;
  #lastError = '';
  #lastExportAt: Date | undefined;
  readonly #inner: SpanProcessor;

  constructor(
    createProcessor: (exporter: SpanExporter) => SpanProcessor,
    exporter: SpanExporter,
    private readonly maxQueueSize: number,
    private readonly events: ExportEvents = {},
  ) {
    this.#inner = createProcessor(this.#monitored(exporter));
  }

  state(): ExportState {
    return { exported: this.#exported, dropped: this.#dropped, lastOk: this.#lastOk, lastError: this.#lastError, lastExportAt: this.#lastExportAt };
  }

  onStart(span: Span, parentContext: Context): void {
    this.#inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // Unsampled spans are never exported (the batch processor skips them too).
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.#pending >= this.maxQueueSize) {
      this.#dropped += 1;
      this.events.dropped?.('queue-full', 1);
      return;
    }
    this.#pending += 1;
    this.#inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  #monitored(exporter: SpanExporter): SpanExporter {
    const settle = (count: number, result: ExportResult): void => {
      this.#pending = Math.max(0, this.#pending - count);
      this.#lastExportAt = new Date();
      if (result.code === ExportResultCode.SUCCESS) {
        this.#exported += count;
        this.#lastOk = true;
        this.#lastError = '';
        this.events.exported?.(count);
      } else {
        this.#dropped += count;
        this.#lastOk = false;
        // Exporter errors name the endpoint and the transport failure, never the headers.
        this.#lastError = (result.error?.message ?? 'export failed').slice(0, 200);
        this.events.dropped?.('export-failed', count);
      }
    };
    return {
      export: (spans, resultCallback) => {
        let settled = false;
        exporter.export(spans, (result) => {
          if (settled) return;
          settled = true;
          settle(spans.length, result);
          resultCallback(result);
        });
      },
      shutdown: () => exporter.shutdown(),
      ...(exporter.forceFlush !== undefined && { forceFlush: () => exporter.forceFlush!() }),
    };
  }
}
