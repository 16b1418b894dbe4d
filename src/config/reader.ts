/**
 * Typed accessors over a plain variable map that collect problems instead of
 * throwing, so that one run reports every invalid setting. Values of secret
 * variables are never echoed into a problem.
 */
type Env = Readonly<Record<string, string | undefined>>;

const SECRET_KEYS = /PASSWORD|SECRET|TOKEN|DATABASE_URL|REDIS_URL/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
/** Characters of one problem line, echoed value included. */
const MAX_PROBLEM_LENGTH = 300;

/** The parts of a DATABASE_URL the rest of the configuration understands. */
export interface DatabaseUrlParts {
  /** The first host (libpq's multi-host form lists more in `hosts`). */
  readonly host?: string;
  readonly port?: number;
  /** Every host of libpq's multi-host form `host1:port1,host2:port2`, in order; one entry for a plain URL. */
  readonly hosts?: readonly { readonly host: string; readonly port?: number }[];
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly sslMode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
}

export function createReader(env: Env) {
  const problems: string[] = [];
  const raw = (key: string): string | undefined => {
    const value = env[key]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const show = (key: string, value: string): string => (SECRET_KEYS.test(key) ? '(value hidden)' : JSON.stringify(value));
  // A refusal stays short whatever the values: each problem is cut (at a code point) and listed once.
  const problem = (key: string, message: string): void => {
    const points = Array.from(`${key} ${message}`);
    const line = points.length > MAX_PROBLEM_LENGTH ? `${points.slice(0, MAX_PROBLEM_LENGTH).join('')}… (cut)` : points.join('');
    if (!problems.includes(line)) problems.push(line);
  };

  return {
    problems: problems as readonly string[],
    problem,
    has: (key: string): boolean => raw(key) !== undefined,
    string: (key: string, fallback: string): string => raw(key) ?? fallback,
    optionalString: (key: string): string | undefined => raw(key),
    identifier(key: string, fallback: string): string {
      const value = raw(key) ?? fallback;
      if (!IDENTIFIER.test(value)) problem(key, `must be a PostgreSQL identifier (letters, digits, _), got ${show(key, value)}`);
      return value;
    },
    int(key: string, fallback: number, min: number, max: number): number {
      const value = raw(key);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
        problem(key, `must be a whole number from ${min} to ${max}, got ${show(key, value)}`);
        return fallback;
      }
      return parsed;
    },
    bool(key: string, fallback: boolean): boolean {
      const value = raw(key)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no'].includes(value)) return false;
      problem(key, `must be true or false, got ${show(key, value)}`);
      return fallback;
    },
    oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
      const value = raw(key);
      if (value === undefined) return fallback;
      if ((allowed as readonly string[]).includes(value)) return value as T;
      problem(key, `must be one of ${allowed.join(' | ')}, got ${show(key, value)}`);
      return fallback;
    },
    databaseUrl(key: string): DatabaseUrlParts | undefined {
      const value = raw(key);
      if (value === undefined) return undefined;
      let url: URL;
      let hosts: { host: string; port?: number }[];
      try {
        // WHATWG URLs take one host: parse libpq's host list apart, then the rest with the first host.
        const split = splitHostList(value);
        hosts = split.hosts;
        url = new URL(split.single);
      } catch {
        problem(key, 'is not a valid URL (expected postgresql://user:password@host:port/database)');
        return undefined;
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        problem(key, `must start with postgresql:// (got ${url.protocol}//)`);
        return undefined;
      }
      const sslMode = url.searchParams.get('sslmode') ?? undefined;
      if (sslMode !== undefined && !['disable', 'require', 'verify-ca', 'verify-full'].includes(sslMode)) {
        problem(key, `has sslmode=${sslMode}; use disable | require | verify-ca | verify-full`);
      }
      const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
      return {
        ...(hosts.length > 0 && { hosts }),
        ...(hosts.length === 0 &&
          url.hostname !== '' && { hosts: [{ host: decodeURIComponent(url.hostname), ...(url.port !== '' && { port: Number(url.port) }) }] }),
        ...(url.hostname !== '' && { host: decodeURIComponent(url.hostname) }),
        ...(url.port !== '' && { port: Number(url.port) }),
        ...(database !== '' && { database }),
        ...(url.username !== '' && { user: decodeURIComponent(url.username) }),
        ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
        ...(sslMode !== undefined && { sslMode: sslMode as DatabaseUrlParts['sslMode'] & string }),
      };
    },
  };
}

const PORT = /^\d{1,5}$/;

/**
 * libpq's multi-host URL (`postgresql://u:p@h1:5432,h2:5433/db`): the host list
 * and the same URL with only the first host, which `new URL` can parse.
 * Throws on an empty host or a bad port.
 */
function splitHostList(value: string): { hosts: { host: string; port?: number }[]; single: string } {
  const match = /^([a-z]+:\/\/)([^/?#]*)(.*)$/i.exec(value);
  if (match === null) return { hosts: [], single: value };
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at + 1);
  const list = authority.slice(at + 1);
  if (!list.includes(',')) return { hosts: [], single: value };
  const hosts = list.split(',').map((entry) => {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const [host, port] = bracketed !== null ? [bracketed[1]!, bracketed[2]] : (entry.split(':') as [string, string | undefined]);
    if (host === '' || (port !== undefined && (!PORT.test(port) || Number(port) < 1 || Number(port) > 65535))) throw new Error('bad host list');
    return { host: decodeURIComponent(host), ...(port !== undefined && { port: Number(port) }) };
  });
  return { hosts, single: `${scheme}${userinfo}${list.split(',')[0]!}${rest}` };
}
