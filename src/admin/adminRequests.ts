import { ValidationError, type FieldViolation } from '../domain/errors';
import type { Duration } from '../generated/google/protobuf/duration';
import { instantFromWire, type WireInstant } from '../domain/instants';

/** The longest isolation with an expiry an operator may ask for. */
export const MAX_ISOLATION_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_REASON_LENGTH = 256;
// Dependency names are lower-case words with dashes (config checks them too); anything else cannot match.
const DEPENDENCY = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The dependency field: required, and shaped like a dependency name (so it is safe to echo). */
export function dependencyOf(value: string, violations: FieldViolation[]): string {
  if (value === '') violations.push({ field: 'dependency', description: 'is required (e.g. "postgresql-primary")' });
  else if (!DEPENDENCY.test(value))
    violations.push({ field: 'dependency', description: 'must be a dependency name: lower-case letters, digits and dashes, at most 63' });
  return value;
}

const ENDPOINT = /^[A-Za-z0-9.:[\]-]{1,300}$/;

/** The endpoint field: required, shaped like host:port (so it is safe to echo). */
export function endpointOf(value: string, violations: FieldViolation[]): string {
  if (value === '') violations.push({ field: 'endpoint', description: 'is required (host:port of a configured database endpoint)' });
  else if (!ENDPOINT.test(value)) violations.push({ field: 'endpoint', description: 'must be host:port of a configured database endpoint' });
  return value;
}

/** The reason field: optional, short, one line. */
export function reasonOf(value: string, violations: FieldViolation[]): string {
  if ([...value].length > MAX_REASON_LENGTH) violations.push({ field: 'reason', description: `must be at most ${MAX_REASON_LENGTH} characters` });
  else if (CONTROL.test(value) || value.isWellFormed?.() === false)
    violations.push({ field: 'reason', description: 'must not contain control characters or lone surrogates' });
  return value;
}

/** When an isolation asked for with `expire_time` or `ttl` ends; undefined for neither. */
export function expiryOf(
  request: { expireTime?: WireInstant | undefined; ttl?: Duration | undefined },
  now: number,
  violations: FieldViolation[],
): Date | undefined {
  if (request.expireTime !== undefined) {
    const { date, violation } = instantFromWire('expire_time', request.expireTime);
    if (violation !== undefined) {
      violations.push(violation);
      return undefined;
    }
    if (date.getTime() <= now || date.getTime() > now + MAX_ISOLATION_MS) {
      violations.push({ field: 'expire_time', description: 'must be in the future and at most 7 days away' });
      return undefined;
    }
    return date;
  }
  if (request.ttl !== undefined) {
    const seconds = Number(request.ttl.seconds);
    const ms = seconds * 1000 + Math.floor(request.ttl.nanos / 1_000_000);
    if (!Number.isSafeInteger(seconds) || request.ttl.nanos < 0 || request.ttl.nanos > 999_999_999 || ms <= 0 || ms > MAX_ISOLATION_MS) {
      violations.push({ field: 'ttl', description: 'must be a positive duration of at most 7 days (604800s)' });
      return undefined;
    }
    return new Date(now + ms);
  }
  return undefined;
}

/** Throws the ValidationError of the collected violations, if any. */
export function assertValid(violations: readonly FieldViolation[]): void {
  if (violations.length > 0) throw new ValidationError(violations);
}
