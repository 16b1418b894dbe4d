import { createHash } from 'node:crypto';
import { readPassword, type Config } from '../config/config';

/**
 * The configuration keys (dotted paths of {@link Config}, e.g. `db.host`)
 * whose values differ between two configurations: names only, for the audit
 * line of a reload; no value ever leaves this function. A password read from
 * the same file compares equal here: the reload compares {@link passwordFingerprint}s.
 */
export function changedKeys(before: Config, after: Config): string[] {
  const changed: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (isRecord(a) && isRecord(b) && !Array.isArray(a) && !Array.isArray(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], path === '' ? key : `${path}.${key}`);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) changed.push(path);
  };
  walk(before, after, '');
  // With one host, `db.endpoints` only mirrors db.host and db.port; a list of several is its own setting.
  const single = before.db.endpoints.length <= 1 && after.db.endpoints.length <= 1;
  return changed.filter((key) => !(single && key.startsWith('db.endpoints'))).sort();
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';

/**
 * A digest of the database password as it reads now (a rotated file changes
 * it), so a reload can say `db.password` changed without keeping the secret.
 * A file that cannot be read gives '' (the reload reports that itself).
 */
export function passwordFingerprint(config: Config): string {
  try {
    return createHash('sha256')
      .update(readPassword(config.db.password) ?? '')
      .digest('hex');
  } catch {
    return '';
  }
}
