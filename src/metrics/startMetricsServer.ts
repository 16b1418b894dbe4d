import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MetricsConfig } from '../config/config';
import { createMetricsRenderer, negotiateFormat } from './renderMetrics';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the registry at GET /metrics (Prometheus text, or OpenMetrics with
 * exemplars when the scraper accepts it) on its
 * own port (kept off the gRPC port so that scrapes never compete with RPCs
 * for a connection). Returns undefined when METRICS_ENABLED=false.
 */
export async function startMetricsServer(config: MetricsConfig, registry: Registry, logger: Logger): Promise<MetricsServer | undefined> {
  if (!config.enabled) return undefined;
  const render = createMetricsRenderer(registry);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    render(negotiateFormat(request.headers.accept)).then(
      ({ contentType, text }) => response.writeHead(200, { 'content-type': contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        logger.error({ err: error }, 'collecting metrics failed');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
      },
    );
  });
  // A scraper that keeps connections open must not hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ metrics: `${config.host}:${port}/metrics` }, 'metrics endpoint listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
