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

/**
 * Checks an update_mask against the resource's updatable paths and each
 * named field against its rule, and builds the patch of the named fields
 * (valid only when there are no violations).
 */
export function maskedPatch<Paths extends Readonly<Record<string, string>>, Patch>(
  paths: readonly string[],
  allowed: Paths,
  rule: (path: keyof Paths & string) => FieldViolation | undefined,
  valueOf: (key: Paths[keyof Paths]) => unknown,
): { violations: (FieldViolation | undefined)[]; patch: Patch } {
  const names = Object.keys(allowed).join(', ');
  const violations = [
    paths.length === 0 ? { field: 'update_mask', description: `must name at least one of: ${names}` } : undefined,
    ...paths.map((path) =>
      path in allowed ? rule(path) : { field: 'update_mask', description: `path "${path.slice(0, 64)}" cannot be updated; allowed: ${names}` },
    ),
  ];
  const known = paths.filter((path) => path in allowed).map((path) => allowed[path] as Paths[keyof Paths]);
  return { violations, patch: Object.fromEntries(known.map((key) => [key, valueOf(key)])) as Patch };
}
