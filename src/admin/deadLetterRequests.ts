import { DomainError, FailedPreconditionError, NotFoundError, UnavailableError, type FieldViolation } from '../domain/errors';
import { instantToWire } from '../domain/instants';
import type { DeadLetter as DeadLetterView, DeadLetters } from '../events/createDeadLetters';
import type { DeadLetter } from '../generated/coaching/admin/v1/admin_service';

/** A Redis stream entry ID; anything else cannot name a dead letter (and is not echoed). */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

export function entryIdOf(field: string, value: string, violations: FieldViolation[]): string {
  if (value === '') violations.push({ field, description: 'is required: a dead-letter entry id such as "1733050000000-0"' });
  else if (!ENTRY_ID.test(value)) violations.push({ field, description: 'must be a stream entry id: digits, a dash, digits' });
  return value;
}

export function pageOf(request: { pageSize: number; pageToken: string }, violations: FieldViolation[]): { limit: number; after: string } {
  if (request.pageSize < 0) violations.push({ field: 'page_size', description: 'must not be negative' });
  if (request.pageToken !== '' && !ENTRY_ID.test(request.pageToken))
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
