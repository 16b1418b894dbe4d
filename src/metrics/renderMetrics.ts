import { Registry } from 'prom-client';

/** prom-client types a registry's content type as fixed at construction; it is not. */
export function setContentType(registry: Registry, contentType: string): void {
  (registry as unknown as { setContentType(type: string): void }).setContentType(contentType);
}

export type MetricsFormat = 'prometheus' | 'openmetrics';

/** OpenMetrics when the scraper asks for it (Prometheus does, to get exemplars); the Prometheus text format otherwise. */
export function negotiateFormat(accept: string | undefined): MetricsFormat {
  return accept !== undefined && /application\/openmetrics-text(?![^,]*;\s*q=0(\.0*)?\s*(,|$))/.test(accept) ? 'openmetrics' : 'prometheus';
}

/**
 * Renders one registry in either format. prom-client fixes the format on the
 * registry and, while rendering OpenMetrics, renames counters in place
 * (drops `_total`); so renders run one at a time, and the names and the
 * Prometheus default are restored after each OpenMetrics render. Exemplars
 * (the trace id on the latency histogram) appear only in OpenMetrics.
 */
export function createMetricsRenderer(registry: Registry): (format: MetricsFormat) => Promise<{ contentType: string; text: string }> {
  let queue: Promise<unknown> = Promise.resolve();
  const render = async (format: MetricsFormat): Promise<{ contentType: string; text: string }> => {
    if (format === 'prometheus') return { contentType: registry.contentType, text: await registry.metrics() };
    const names = registry.getMetricsAsArray().map((metric) => [metric as unknown as { name: string }, (metric as unknown as { name: string }).name] as const);
    setContentType(registry, Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, text: await registry.metrics() };
    } finally {
      setContentType(registry, Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [metric, name] of names) metric.name = name;
    }
  };
  return (format) => {
    const result = queue.then(
      () => render(format),
      () => render(format),
    );
    queue = result.catch(() => undefined);
    return result;
  };
}
