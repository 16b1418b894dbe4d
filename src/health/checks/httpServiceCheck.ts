import type { HealthDependencyConfig } from '../../config/config';
import type { DependencyCheck, ProbeOutcome } from '../types';

type HttpDependency = Extract<HealthDependencyConfig, { type: 'HTTP_SERVICE' }>;

/** How much of a failing response body goes into the (sanitised) error, for diagnosis. */
const BODY_EXCERPT = 200;

/**
 * Probes an HTTP endpoint with GET, expecting a 2xx status. Credentials in
 * the URL are sent as a Basic Authorization header (fetch refuses URLs with
 * credentials) and are never part of the endpoint or of any message; the
 * excerpt of a failing body is sanitised like every probe error.
 */
export function createHttpServiceCheck(dep: HttpDependency, inject?: (carrier: Record<string, string>) => void): DependencyCheck {
  const url = new URL(dep.url);
  const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.1' };
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const target = url.toString();
  const shown = `${url.origin}${url.pathname}`;
  return {
    name: dep.name,
    type: 'HTTP_SERVICE',
    critical: dep.critical,
    endpoint: {
      hostname: url.hostname,
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
      protocol: url.protocol.replace(':', ''),
    },
    intervalMs: dep.intervalMs,
    timeoutMs: dep.timeoutMs,
    async probe(signal): Promise<ProbeOutcome> {
      let response: Response;
      try {
        // The probe's trace context (traceparent, tracestate, baggage) when tracing is on.
        const sent = { ...headers };
        inject?.(sent);
        response = await fetch(target, { method: 'GET', headers: sent, signal, redirect: 'manual' });
      } catch (error) {
        const cause = (error as { cause?: { code?: unknown } }).cause?.code;
        const code = typeof cause === 'string' ? cause : signal.aborted ? 'TIMEOUT' : 'FETCH_FAILED';
        return { status: 'UNHEALTHY', message: `${dep.name} is not reachable`, errorCode: `HTTP_${code}`, error: `GET ${shown}: ${code}` };
      }
      if (response.status >= 200 && response.status < 300) {
        await response.body?.cancel();
        return { status: 'HEALTHY', message: `${dep.name} is healthy` };
      }
      const body = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, BODY_EXCERPT);
      return {
        status: 'UNHEALTHY',
        message: `${dep.name} answered HTTP ${response.status}`,
        errorCode: `HTTP_${response.status}`,
        error: `GET ${shown} answered ${response.status}${body === '' ? '' : `: ${body}`}`,
      };
    },
  };
}
