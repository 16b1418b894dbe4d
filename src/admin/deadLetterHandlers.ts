import type { handleUnaryCall } from '@grpc/grpc-js';
import type { FieldViolation } from '../domain/errors';
import type { DeadLetters } from '../events/createDeadLetters';
import type { AdminServiceServer } from '../generated/coaching/admin/v1/admin_service';
import { assertValid, reasonOf } from './adminRequests';
import type { AdminHandler } from './AdminHandler';
import { deadLetterNotFound, deadLetterToProto, entryIdOf, onRedis, pageOf, requireDeadLetters } from './deadLetterRequests';

/** createAdminService's authorising, auditing wrapper. */
type Guard = <Req, Res>(
  method: string,
  action: string,
  target: (request: Req) => string,
  handler: AdminHandler<Req, Res>,
  loggable?: (name: string) => string | undefined,
) => handleUnaryCall<Req, Res>;

/**
 * ListDeadLetters, ReplayDeadLetter, DiscardDeadLetter: validate, act on the
 * dead-letter stream, map; audited like every admin call. The audit target is
 * the dead-letter stream (a bounded metric label); the entry id is a detail of
 * the log line.
 */
export function deadLetterHandlers(
  deadLetters: DeadLetters | undefined,
  guarded: Guard,
): Pick<AdminServiceServer, 'listDeadLetters' | 'replayDeadLetter' | 'discardDeadLetter'> {
  return {
    listDeadLetters: guarded(
      'ListDeadLetters',
      'list-dead-letters',
      () => '',
      async (request) => {
        const violations: FieldViolation[] = [];
        const page = pageOf(request, violations);
        assertValid(violations);
        const store = requireDeadLetters(deadLetters);
        const { letters, more } = await onRedis(() => store.list(page.limit, page.after));
        return {
          response: { deadLetters: letters.map(deadLetterToProto), nextPageToken: more ? (letters.at(-1)?.id ?? '') : '' },
          audit: { target: store.key, details: { count: letters.length } },
        };
      },
      () => undefined,
    ),
    replayDeadLetter: guarded(
      'ReplayDeadLetter',
      'replay-dead-letter',
      (r) => r.id,
      async (request) => {
        const { id, reason } = entryRequestOf(request);
        const store = requireDeadLetters(deadLetters);
        const replayed = await onRedis(() => store.replay(id));
        if (replayed === undefined) throw deadLetterNotFound(id);
        return {
          response: { deadLetter: deadLetterToProto(replayed.letter), entryId: replayed.entryId },
          audit: {
            target: store.key,
            before: 'dead-letter',
            after: 'replayed',
            details: { deadLetterId: id, reason, group: replayed.letter.group, eventId: replayed.letter.fields.id ?? '', entryId: replayed.entryId },
          },
        };
      },
      () => undefined,
    ),
    discardDeadLetter: guarded(
      'DiscardDeadLetter',
      'discard-dead-letter',
      (r) => r.id,
      async (request) => {
        const { id, reason } = entryRequestOf(request);
        const store = requireDeadLetters(deadLetters);
        const discarded = await onRedis(() => store.discard(id));
        if (discarded === undefined) throw deadLetterNotFound(id);
        return {
          response: { deadLetter: deadLetterToProto(discarded) },
          audit: {
            target: store.key,
            before: 'dead-letter',
            after: 'discarded',
            details: { deadLetterId: id, reason, group: discarded.group, eventId: discarded.fields.id ?? '' },
          },
        };
      },
      () => undefined,
    ),
  };
}

/** The id and reason of a replay or discard, checked together (every violation at once). */
function entryRequestOf(request: { readonly id: string; readonly reason: string }): { id: string; reason: string } {
  const violations: FieldViolation[] = [];
  const id = entryIdOf('id', request.id, violations);
  const reason = reasonOf(request.reason, violations);
  assertValid(violations);
  return { id, reason };
}
