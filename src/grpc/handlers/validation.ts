import { ValidationError, type FieldViolation } from '../../domain/errors';
import * as rules from '../../domain/rules';

/**
 * Request checks shared by every handler. Handlers collect all violations
 * of a request and reject it once, so the client learns every broken rule.
 */
export function reject(violations: readonly (FieldViolation | undefined)[]): void {
  const broken = rules.collect(...violations);
  if (broken.length > 0) throw new ValidationError(broken);
}

/** The resource message of a request, which must be present. */
export function present<T>(field: string, value: T | undefined): T {
  if (value === undefined) throw new ValidationError([{ field, description: 'is required' }]);
  return value;
}

/** request_id as the idempotency key: optional, a UUID, compared case-insensitively. */
export function requestIdViolation(requestId: string): FieldViolation | undefined {
  return rules.optionalUuid('request_id', requestId);
}

export function requestIdOf(requestId: string): string | undefined {
  return requestId === '' ? undefined : requestId.toLowerCase();
}

/** An optional id filter or reference (already validated): undefined when empty, else lower-case. */
export function optionalId(value: string): string | undefined {
  return value === '' ? undefined : value.toLowerCase();
}

export function pageSizeViolation(pageSize: number): FieldViolation | undefined {
  return pageSize < 0 ? { field: 'page_size', description: 'must not be negative' } : undefined;
}

/** An optional enum filter: *_UNSPECIFIED means no filter; an undefined number is a violation. */
export function enumFilter<Stored, Proto extends number>(
  field: string,
  value: Proto,
  fromProto: (value: Proto) => Stored | undefined,
  typeName: string,
): { value: Stored | undefined; violation: FieldViolation | undefined } {
  if (value === 0) return { value: undefined, violation: undefined };
  const stored = fromProto(value);
  return { value: stored, violation: stored === undefined ? { field, description: `is not a known ${typeName} value` } : undefined };
}

/** More update_mask paths than this are refused unread: no resource has more than a handful of updatable fields. */
export const MAX_UPDATE_MASK_PATHS = 16;
/** Longer than any etag the service issues ("v" and a row version, quoted). */
const MAX_ETAG_LENGTH = 64;
/** Longer than any page token the service issues (a signed cursor bound to the filter). */
const MAX_PAGE_TOKEN_LENGTH = 2048;

export function etagViolation(field: string, etag: string): FieldViolation | undefined {
  return rules.required(field, etag !== '') ?? rules.token(field, etag, MAX_ETAG_LENGTH);
}

const DEPENDENCY_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A dependency name as HEALTH_DEPENDENCIES allows them (lower-case letters, digits, dashes; at most 63). */
export function dependencyNameViolation(field: string, name: string): FieldViolation | undefined {
  return name.length <= 63 && DEPENDENCY_NAME.test(name)
    ? undefined
    : { field, description: 'must be a dependency name: lower-case letters, digits and dashes, starting with a letter, at most 63 characters' };
}

export function pageTokenViolation(pageToken: string): FieldViolation | undefined {
  return rules.token('page_token', pageToken, MAX_PAGE_TOKEN_LENGTH);
}

/**
 * Checks an update_mask against the resource's updatable paths and each
 * named field against its rule, and builds the patch of the named fields
 * (valid only when there are no violations). The paths are looked up in an
 * explicit allow-list of the table's own keys, so names every JavaScript
 * object has (`constructor`, `__proto__`, `toString`) are refused like any
 * other unknown path. Duplicates count once; more than
 * {@link MAX_UPDATE_MASK_PATHS} paths are refused before any is looked at.
 */
export function maskedPatch<Paths extends Readonly<Record<string, string>>, Patch>(
  paths: readonly string[],
  allowed: Paths,
  rule: (path: keyof Paths & string) => FieldViolation | undefined,
  valueOf: (key: Paths[keyof Paths]) => unknown,
): { violations: (FieldViolation | undefined)[]; patch: Patch } {
  const table = new Map(Object.entries(allowed) as [keyof Paths & string, Paths[keyof Paths]][]);
  const names = [...table.keys()].join(', ');
  if (paths.length > MAX_UPDATE_MASK_PATHS) {
    return { violations: [{ field: 'update_mask', description: `must name at most ${MAX_UPDATE_MASK_PATHS} paths, got ${paths.length}` }], patch: {} as Patch };
  }
  const unique = [...new Set(paths)];
  const known = unique.filter((path): path is keyof Paths & string => table.has(path));
  const violations = [
    unique.length === 0 ? { field: 'update_mask', description: `must name at least one of: ${names}` } : undefined,
    ...unique.map((path) =>
      table.has(path) ? rule(path) : { field: 'update_mask', description: `path ${rules.quoted(path)} cannot be updated; allowed: ${names}` },
    ),
  ];
  return { violations, patch: Object.fromEntries(known.map((path) => [table.get(path)!, valueOf(table.get(path)!)])) as Patch };
}
