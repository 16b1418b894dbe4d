/**
 * The database endpoints, libpq style: DB_HOST and DB_PORT take
 * comma-separated lists (one port for every host, or one per host), and
 * DATABASE_URL the multi-host form `postgresql://u:p@h1:5432,h2:5433/db`.
 * Every endpoint shares the database, user, password and TLS settings. One
 * endpoint is today's single-server setup; with more, the service finds the
 * primary among them (src/db/endpoints).
 */
import type { DatabaseUrlParts } from './reader';

/** One PostgreSQL server of the cluster. */
export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
}

interface EndpointReader {
  optionalString(key: string): string | undefined;
  problem(key: string, message: string): void;
}

/** More endpoints than any PostgreSQL cluster a service talks to: each one gets a pool and a probe (README "Database endpoints"). */
export const MAX_DATABASE_ENDPOINTS = 32;

/**
 * What is wrong with one DB_HOST entry, if anything. libpq takes a bare host
 * name or address there (IPv6 without brackets) and the ports in DB_PORT.
 */
function hostProblem(host: string): string | undefined {
  if (/[\s\u0000-\u001f\u007f]/.test(host)) return 'has an entry with a space or control character';
  if (host.startsWith('[') || host.endsWith(']')) return 'has an IPv6 address in brackets; write it without them (::1), with the port in DB_PORT';
  // One colon is host:port (an IPv6 address has at least two).
  if (host.split(':').length === 2)
    return 'has an entry with a port (host:port); list the hosts alone and put the ports in DB_PORT (one for all, or one per host)';
  if (host.length > 255) return 'has an entry longer than 255 characters';
  return undefined;
}

const parsePort = (text: string): number | undefined => (/^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined);

export function readDatabaseEndpoints(r: EndpointReader, url: DatabaseUrlParts | undefined, defaultPort: number): DatabaseEndpoint[] {
  const hostList = r.optionalString('DB_HOST');
  const portList = r.optionalString('DB_PORT');
  const ports: (number | undefined)[] = [];
  if (portList !== undefined) {
    const texts = portList.split(',').map((p) => p.trim());
    for (const text of texts) {
      const port = parsePort(text);
      if (port === undefined) {
        r.problem(
          'DB_PORT',
          texts.length === 1
            ? `must be a whole number from 1 to 65535, got ${JSON.stringify(text)}`
            : `lists a port that is not a whole number from 1 to 65535: ${JSON.stringify(text)}`,
        );
      }
      ports.push(port);
    }
  }
  // DB_HOST wins over the URL's hosts; the URL's (first) port stays the default port, as with one host.
  const urlPort = url?.hosts?.[0]?.port;
  const given =
    hostList !== undefined
      ? hostList.split(',').map((host) => ({ host: host.trim(), port: urlPort }))
      : (url?.hosts?.map((h) => ({ host: h.host, port: h.port })) ?? [{ host: '127.0.0.1', port: undefined }]);
  if (given.length > MAX_DATABASE_ENDPOINTS) {
    // Nothing per entry: the one problem says it all (and stays short); the first host stands in until the refusal.
    r.problem(hostList !== undefined ? 'DB_HOST' : 'DATABASE_URL', `lists ${given.length} hosts; at most ${MAX_DATABASE_ENDPOINTS}`);
    return [{ host: given[0]!.host, port: given[0]!.port ?? defaultPort }];
  }
  if (given.some((h) => h.host === '')) r.problem('DB_HOST', 'has an empty entry in its comma-separated list');
  if (hostList !== undefined) {
    for (const problem of new Set(given.map((h) => hostProblem(h.host)))) if (problem !== undefined) r.problem('DB_HOST', problem);
  }
  if (ports.length > 1 && ports.length !== given.length) {
    r.problem('DB_PORT', `lists ${ports.length} ports for ${given.length} hosts; give one port for all, or one per host (libpq)`);
  }
  const endpoints = given.map((h, i) => ({ host: h.host, port: (ports.length > 1 ? ports[i] : ports[0]) ?? h.port ?? defaultPort }));
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const e of endpoints) {
    const key = `${e.host}:${e.port}`;
    if (seen.has(key) && !repeated.has(key)) r.problem('DB_HOST', `lists ${key} twice`);
    if (seen.has(key)) repeated.add(key);
    seen.add(key);
  }
  return endpoints;
}
