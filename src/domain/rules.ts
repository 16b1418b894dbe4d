import type { FieldViolation } from './errors';

/**
 * Field rules shared by every resource. Each returns a violation (naming the
 * field and the rule) or nothing; callers collect them and reject the request
 * before it reaches the database.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
// Deliberately simple: one @, something on both sides, a dot in the domain, no spaces.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

let timeZones: Set<string> | undefined;
function knownTimeZones(): Set<string> {
  timeZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
  return timeZones;
}

export function uuid(field: string, value: string): FieldViolation | undefined {
  if (value === '') return { field, description: 'is required' };
  return UUID.test(value) ? undefined : { field, description: 'must be a UUID (e.g. 3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f)' };
}

export function optionalUuid(field: string, value: string): FieldViolation | undefined {
  return value === '' ? undefined : uuid(field, value);
}

export function email(field: string, value: string): FieldViolation | undefined {
  if (value === '') return { field, description: 'is required' };
  if (value.length > 254) return { field, description: 'must be at most 254 characters' };
  return EMAIL.test(value) ? undefined : { field, description: 'must be an email address such as name@example.com' };
}

export function text(field: string, value: string, min: number, max: number): FieldViolation | undefined {
  const length = [...value].length;
  if (min > 0 && value.trim() === '') return { field, description: 'is required' };
  if (length < min || length > max) return { field, description: `must be ${min} to ${max} characters, got ${length}` };
  return undefined;
}

export function timezone(field: string, value: string): FieldViolation | undefined {
  if (value === '') return { field, description: 'is required' };
  return knownTimeZones().has(value) ? undefined : { field, description: `must be an IANA time zone name such as Europe/Berlin, got "${value.slice(0, 64)}"` };
}

export function required(field: string, present: boolean): FieldViolation | undefined {
  return present ? undefined : { field, description: 'is required' };
}

/** Keeps the violations, dropping the passes. */
export function collect(...results: (FieldViolation | undefined)[]): FieldViolation[] {
  return results.filter((r): r is FieldViolation => r !== undefined);
}

export function integer(field: string, value: number, min: number, max: number): FieldViolation | undefined {
  if (value === 0 && min > 0) return { field, description: 'is required' };
  return Number.isInteger(value) && value >= min && value <= max ? undefined : { field, description: `must be ${min} to ${max}, got ${value}` };
}

export function instant(field: string, value: Date | undefined): FieldViolation | undefined {
  if (value === undefined) return { field, description: 'is required' };
  return Number.isFinite(value.getTime()) ? undefined : { field, description: 'must be a valid timestamp' };
}
