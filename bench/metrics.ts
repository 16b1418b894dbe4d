import { request } from 'node:http';

/** Cumulative bucket counts of one Prometheus histogram (summed over its label sets), by upper bound in seconds. */
export type Buckets = Map<number, number>;

/** Fetches the service's /metrics text, or undefined when there is no metrics endpoint. */
export function scrape(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The `_bucket` series of histogram `name` in exposition text. */
export function histogramBuckets(text: string, name: string): Buckets {
  const buckets: Buckets = new Map();
  const pattern = new RegExp(`^${name}_bucket\\{(.*)\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const match = pattern.exec(line);
    if (match === null) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(match[1]!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/**
 * The q-quantile (ms) of the observations made between two scrapes, by linear
 * interpolation inside the bucket (as PromQL's histogram_quantile does).
 * Undefined when nothing was observed.
 */
export function quantileBetween(before: Buckets, after: Buckets, q: number): { ms: number; count: number } | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = delta.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [i, bound] of bounds.entries()) {
    const cumulative = delta[i]!;
    if (cumulative >= rank) {
      if (!Number.isFinite(bound)) return { ms: lower * 1000, count: total };
      const inBucket = cumulative - below;
      const ms = (lower + (inBucket === 0 ? 0 : ((rank - below) / inBucket) * (bound - lower))) * 1000;
      return { ms: Math.round(ms * 1000) / 1000, count: total };
    }
    lower = bound;
    below = cumulative;
  }
  return undefined;
}

export const POOL_ACQUIRE_HISTOGRAM = 'coaching_db_pool_acquire_duration_seconds';
