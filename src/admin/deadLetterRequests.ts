import { DomainError, FailedPreconditionError, NotFoundError, UnavailableError, type FieldViolation } from '../domain/errors';
import { instantToWire } from '../domain/instants';
import type { DeadLetter as DeadLetterView, DeadLetters } from '../events/createDeadLetters';
import type { DeadLetter } from '../generated/coaching/admin/v1/admin_service';

/** A Redis stream entry ID; anything else cannot name a dead letter (and is not echoed). */
const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;
/** Both parts of an entry ID are unsigned 64-bit: Redis refuses more as a command error, which would count against the Redis breaker. */
const MAX_PART = 2n ** 64n - 1n;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

/** The two parts of a valid entry ID, undefined for anything else. */
function entryIdParts(value: string): readonly [bigint, bigint] | undefined {
  const match = ENTRY_ID.exec(value);
  if (match === null) return undefined;
  const parts = [BigInt(match[1]!), BigInt(match[2]!)] as const;
  return parts[0] <= MAX_PART && parts[1] <= MAX_PART ? parts : undefined;
}

export function entryIdOf(field: string, value: string, violations: FieldViolation[]): string {
  if (value === '') violations.push({ field, description: 'is required: a dead-letter entry id such as "1733050000000-0"' });
  else if (entryIdParts(value) === undefined)
    violations.push({ field, description: 'must be a stream entry id: digits, a dash, digits (each at most 2^64-1)' });
  return value;
}

export function pageOf(request: { pageSize: number; pageToken: string }, violations: FieldViolation[]): { limit: number; after: string } {
  if (request.pageSize < 0) violations.push({ field: 'page_size', description: 'must not be negative' });
  // A page never ends at the last possible ID (nothing can follow it), and Redis refuses "(" before it.
  const after = request.pageToken === '' ? undefined : entryIdParts(request.pageToken);
  if (request.pageToken !== '' && (after === undefined || (after[0] === MAX_PART && after[1] === MAX_PART)))
    violations.push({ field: 'page_token', description: 'is not a token this service issued' });
  return { limit: request.pageSize <= 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE), after: request.pageToken };
}

export function deadLetterToProto(letter: DeadLetterView): DeadLetter {
  return {
    id: letter.id,
    group: letter.group,
    deliveryCount: String(letter.deliveries),
    lastConsumer: letter.lastConsumer,
    sourceEntryId: letter.sourceId,
    deadLetterTime: letter.deadLetterTime === undefined ? undefined : instantToWire(letter.deadLetterTime),
    fields: { ...letter.fields },
  };
}

/** The dead letters, or FAILED_PRECONDITION when no Redis is configured. */
export function requireDeadLetters(deadLetters: DeadLetters | undefined): DeadLetters {
  if (deadLetters === undefined) {
    throw new FailedPreconditionError('EVENTS_STREAM_NOT_CONFIGURED', 'no event stream: REDIS_URL is not set on this replica');
  }
  return deadLetters;
}

/** Runs a Redis operation; a Redis failure (down, timeout, open breaker) is UNAVAILABLE, never INTERNAL. */
export async function onRedis<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new UnavailableError('REDIS_UNAVAILABLE', 'redis is not reachable; retry later', { cause: error });
  }
}

export const deadLetterNotFound = (id: string) => new NotFoundError('dead letter', id);
