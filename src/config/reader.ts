/**
 * Typed accessors over a plain variable map that collect problems instead of
 * throwing, so that one run reports every invalid setting. Values of secret
 * variables are never echoed into a problem.
 */
type Env = Readonly<Record<string, string | undefined>>;

const SECRET_KEYS = /PASSWORD|SECRET|TOKEN|DATABASE_URL|REDIS_URL/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** The parts of a DATABASE_URL the rest of the configuration understands. */
export interface DatabaseUrlParts {
  readonly host?: string;
  readonly port?: number;
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
  const problem = (key: string, message: string): void => {
    problems.push(`${key} ${message}`);
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
      try {
        url = new URL(value);
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
