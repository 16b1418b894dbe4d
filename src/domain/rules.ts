import { boundedText, TEXT_LIMITS } from './boundedText';
import type { FieldViolation } from './errors';
import { instantFromWire, type WireInstant } from './instants';
import { isTimeZoneName, timeZoneSuggestion } from './timeZones';

/**
 * Field rules shared by every resource. Each returns a violation (naming the
 * field and the rule) or nothing; callers collect them and reject the request
 * before it reaches the database. Every rule looks at a bounded prefix of its
 * value first, so a 4 MiB string costs no more than a short one, and any value
 * a description echoes is made well-formed and capped.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
// Deliberately simple: one @, something on both sides, a dot in the domain, no spaces.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** C0 controls and DEL: PostgreSQL refuses NUL, and none of them belongs in a name or title. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** The same, but line feed, carriage return and tab are allowed in free-form text. */
const CONTROL_EXCEPT_LAYOUT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Single-line text (names, titles) or free-form text (bio, description, notes) that may hold line breaks and tabs. */
export type TextKind = 'single-line' | 'free-form';

/** A value as a description may quote it: well-formed, at most TEXT_LIMITS.echo bytes, JSON-quoted. */
export function quoted(value: string): string {
  return JSON.stringify(boundedText(value, TEXT_LIMITS.echo));
}

/**
 * Code points in `value` (what PostgreSQL's char_length counts), counting at
 * most `limit + 1`: enough to tell "too long" without walking a huge string.
 * A lone surrogate counts as one (it never reaches the database: the wire
 * decoder turns invalid UTF-8 into U+FFFD).
 */
export function codePointsUpTo(value: string, limit: number): number {
  let count = 0;
  for (let i = 0; i < value.length && count <= limit; i++, count++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}

function controlViolation(field: string, value: string, kind: TextKind): FieldViolation | undefined {
  if (kind === 'free-form') {
    return CONTROL_EXCEPT_LAYOUT.test(value)
      ? { field, description: 'must not contain control characters other than line feed, carriage return and tab' }
      : undefined;
  }
  return CONTROL.test(value) ? { field, description: 'must not contain control characters (NUL, line breaks, tabs, ...)' } : undefined;
}

export function uuid(field: string, value: string): FieldViolation | undefined {
  if (value === '') return { field, description: 'is required' };
  return value.length === 36 && UUID.test(value) ? undefined : { field, description: 'must be a UUID (e.g. 3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f)' };
}

export function optionalUuid(field: string, value: string): FieldViolation | undefined {
  return value === '' ? undefined : uuid(field, value);
}

export function email(field: string, value: string): FieldViolation | undefined {
  if (value === '') return { field, description: 'is required' };
  if (codePointsUpTo(value, 254) > 254) return { field, description: 'must be at most 254 characters' };
  if (CONTROL.test(value)) return { field, description: 'must not contain control characters' };
  return EMAIL.test(value) ? undefined : { field, description: 'must be an email address such as name@example.com' };
}

/**
 * Text of `min` to `max` characters, counted as PostgreSQL counts them (code
 * points), with no control characters beyond what `kind` allows. A required
 * field (`min` > 0) must hold more than white space.
 */
export function text(field: string, value: string, min: number, max: number, kind: TextKind = 'single-line'): FieldViolation | undefined {
  const length = codePointsUpTo(value, max);
  if (length > max) return { field, description: `must be at most ${max} characters` };
  if (min > 0 && value.trim() === '') return { field, description: 'is required' };
  if (length < min) return { field, description: `must be ${min} to ${max} characters, got ${length}` };
  return controlViolation(field, value, kind);
}

/**
 * A name of the IANA time zone database, zones and links alike (Asia/Kolkata
 * and its old name Asia/Calcutta, UTC, Etc/GMT+5, US/Eastern), spelt exactly
 * as the database spells it. Offsets ("+05:00") and other spellings are
 * refused, with a suggestion when only the case differs. Stored as sent.
 */
export function timezone(field: string, value: string): FieldViolation | undefined {
  if (value === '') return { field, description: 'is required' };
  if (isTimeZoneName(value)) return undefined;
  const suggestion = timeZoneSuggestion(value);
  return {
    field,
    description: `must be an IANA time zone name such as Europe/Berlin, got ${quoted(value)}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
  };
}

export function required(field: string, present: boolean): FieldViolation | undefined {
  return present ? undefined : { field, description: 'is required' };
}

/** An opaque token the service issued (etag, page token): refused unread when longer than any it issues. */
export function token(field: string, value: string, maxLength: number): FieldViolation | undefined {
  return value.length > maxLength ? { field, description: `is not a value this service issued (at most ${maxLength} characters)` } : undefined;
}

/** Keeps the violations, dropping the passes. */
export function collect(...results: (FieldViolation | undefined)[]): FieldViolation[] {
  return results.filter((r): r is FieldViolation => r !== undefined);
}

export function integer(field: string, value: number, min: number, max: number): FieldViolation | undefined {
  if (value === 0 && min > 0) return { field, description: 'is required' };
  return Number.isInteger(value) && value >= min && value <= max ? undefined : { field, description: `must be ${min} to ${max}, got ${value}` };
}

/**
 * A required timestamp, checked on its wire fields (see domain/instants.ts):
 * the Date, or the violation.
 */
export function instant(field: string, value: WireInstant | undefined): { date?: Date; violation?: FieldViolation } {
  if (value === undefined) return { violation: { field, description: 'is required' } };
  return instantFromWire(field, value);
}

/** An optional timestamp (a list filter): undefined when absent. */
export function optionalInstant(field: string, value: WireInstant | undefined): { date?: Date; violation?: FieldViolation } {
  return value === undefined ? {} : instantFromWire(field, value);
}
