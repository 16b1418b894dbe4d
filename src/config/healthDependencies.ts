/**
 * Parses HEALTH_DEPENDENCIES: a JSON array of the upstreams the service
 * probes in the background besides its database. Problems name the entry and
 * field but never echo a value (URLs may carry credentials).
 */
import { z } from 'zod';

/** An upstream probed with grpc.health.v1 Check, or an HTTP endpoint probed with GET expecting 2xx. */
export type HealthDependencyConfig =
  | {
      readonly type: 'GRPC_SERVICE';
      readonly name: string;
      readonly critical: boolean;
      /** host:port of the upstream. */
      readonly target: string;
      /** grpc.health.v1 service name to check; '' asks about the whole server. */
      readonly service: string;
      readonly tls: boolean;
      readonly intervalMs: number;
      readonly timeoutMs: number;
    }
  | {
      readonly type: 'HTTP_SERVICE';
      readonly name: string;
      readonly critical: boolean;
      /** http(s) URL; credentials in it are sent as Basic auth and never shown. */
      readonly url: string;
      readonly intervalMs: number;
      readonly timeoutMs: number;
    };

/** Reserved: the database dependency is always present under this name. */
export const DATABASE_DEPENDENCY_NAME = 'postgresql-primary';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const TARGET = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

const common = {
  name: z.string().regex(NAME, 'must be lower-case letters, digits and dashes, starting with a letter'),
  critical: z.boolean().default(false),
  intervalSeconds: z.number().int().min(1).max(3600).optional(),
  timeoutSeconds: z.number().int().min(1).max(600).optional(),
};
const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};
const entry = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('GRPC_SERVICE'),
    ...common,
    target: z.string().regex(TARGET, 'must be host:port'),
    service: z.string().default(''),
    tls: z.boolean().default(false),
  }),
  z.strictObject({ type: z.literal('HTTP_SERVICE'), ...common, url: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL') }),
]);

export function parseHealthDependencies(
  raw: string | undefined,
  defaults: { intervalMs: number; timeoutMs: number },
  problem: (key: string, message: string) => void,
): HealthDependencyConfig[] {
  if (raw === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    problem('HEALTH_DEPENDENCIES', 'is not valid JSON (expected an array of {"name","type":"GRPC_SERVICE"|"HTTP_SERVICE",...})');
    return [];
  }
  const parsed = z.array(entry).safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      // zod messages name expected types and options, never the input value.
      problem(`HEALTH_DEPENDENCIES${path}`, issue.message);
    }
    return [];
  }
  const seen = new Set<string>([DATABASE_DEPENDENCY_NAME]);
  return parsed.data.map((d, index) => {
    if (seen.has(d.name)) problem(`HEALTH_DEPENDENCIES[${index}].name`, `"${d.name}" is used twice (or is the reserved database name)`);
    seen.add(d.name);
    const timing = {
      intervalMs: (d.intervalSeconds ?? 0) * 1000 || defaults.intervalMs,
      timeoutMs: (d.timeoutSeconds ?? 0) * 1000 || defaults.timeoutMs,
    };
    return d.type === 'GRPC_SERVICE'
      ? { type: d.type, name: d.name, critical: d.critical, target: d.target, service: d.service, tls: d.tls, ...timing }
      : { type: d.type, name: d.name, critical: d.critical, url: d.url, ...timing };
  });
}
