import { status } from '@grpc/grpc-js';
import { createHmac } from 'node:crypto';
import { PageTokenCodec } from '../src/domain/PageTokenCodec';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { newProfile } from './support/profiles';
import { at } from './support/world';
import { ListEnrollmentsRequest, ListProfilesRequest, ListProgramsRequest, ListSessionsRequest } from '../src/generated/coaching/v1/coaching_service';

/**
 * A page token signed with the service's own secret (a leaked secret, an old
 * build that issued other shapes, a bug) must still never carry garbage to
 * SQL: the decoded cursor is checked in full, and whatever still reaches the
 * database as invalid input is INVALID_ARGUMENT, never INTERNAL.
 */
const h = useHarness();

/** A token as the service signs it, with any JSON body. */
function forge(secret: string, body: unknown): string {
  const encoded = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${encoded}.${createHmac('sha256', secret).update(encoded).digest('base64url').slice(0, 22)}`;
}

const ID = '3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f';
const ODD_CURSORS: [string, unknown, unknown][] = [
  ['an id that is not a UUID', Date.now(), 'not-a-uuid'],
  ['an id with NUL', Date.now(), `${ID}\u0000`],
  ['an empty id', Date.now(), ''],
  ['a huge id', Date.now(), 'a'.repeat(100_000)],
  ['a time past year 9999', 1e300, ID],
  ['a time before year 1', -1e20, ID],
  ['a fractional time', 1.5, ID],
  ['a time given as a string', String(Date.now()), ID],
  ['an id given as a number', Date.now(), 42],
];

describe('a correctly signed page token with an odd cursor', () => {
  beforeAll(async () => {
    // Two of everything, so every List RPC issues a next-page token to take the filter from.
    for (let n = 0; n < 2; n++) await (await h.w.enrolled()).book(at(n + 1));
  });

  it.each(ODD_CURSORS)('(%s) is INVALID_ARGUMENT naming page_token on every List RPC, never INTERNAL', async (_name, time, id) => {
    const secret = h.svc.service.configInForce().pageTokenSecret;
    const lists = {
      listProfiles: ListProfilesRequest.fromPartial({ pageSize: 1 }),
      listPrograms: ListProgramsRequest.fromPartial({ pageSize: 1 }),
      listEnrollments: ListEnrollmentsRequest.fromPartial({ pageSize: 1 }),
      listSessions: ListSessionsRequest.fromPartial({ pageSize: 1 }),
    } as const;
    for (const [method, request] of Object.entries(lists) as [keyof typeof lists, never][]) {
      const issued = ((await h.api.ok(method, request)) as { nextPageToken: string }).nextPageToken;
      const [, , filter] = JSON.parse(Buffer.from(issued.split('.')[0]!, 'base64url').toString('utf8')) as unknown[];
      const result = await h.api.call(method, { ...(request as object), pageToken: forge(secret, [time, id, filter]) } as never);
      const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual(['page_token']);
    }
  });

  it('the codec accepts what it issued and refuses every odd shape', () => {
    const codec = new PageTokenCodec('0123456789abcdef0123');
    const good = { time: Date.UTC(2026, 0, 1, 12, 0, 0, 123), id: ID };
    expect(codec.decode(codec.encode(good, 'f'), 'f')).toEqual(good);
    expect(codec.decode(codec.encode({ time: -62_135_596_800_000, id: ID.toUpperCase() }, 'f'), 'f')).toEqual({ time: -62_135_596_800_000, id: ID });
    for (const [, time, id] of ODD_CURSORS) expect(codec.decode(forge('0123456789abcdef0123', [time, id, 'f']), 'f')).toBeUndefined();
    for (const body of [[1, ID], [1, ID, 'f', 'extra'], { time: 1, id: ID, filter: 'f' }, null, 'x', [1, ID, 7]]) {
      expect(codec.decode(forge('0123456789abcdef0123', body), 'f')).toBeUndefined();
    }
  });
});

describe('invalid input that slonik raises as InvalidInputError (SQLSTATE 22P02 has no code on it)', () => {
  afterAll(async () => {
    await h.db.query(
      "alter table profiles alter column bio type text, alter column bio set default '', add constraint profiles_bio_check check (char_length(bio) <= 2000)",
    );
  });

  it('is INVALID_ARGUMENT without PostgreSQL text, never INTERNAL, and writes nothing', async () => {
    // A column type the rules do not expect: PostgreSQL refuses the text with 22P02, which slonik's
    // driver rethrows as an InvalidInputError that keeps neither the code nor the cause.
    await h.db.query('alter table profiles drop constraint profiles_bio_check, alter column bio drop default, alter column bio type integer using 0');
    const before = await h.counts();
    const result = await h.api.call('createProfile', { profile: newProfile({ bio: 'not a number' }), requestId: '' });
    const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(badRequest?.fieldViolations).toEqual([expect.objectContaining({ field: '' })]);
    for (const leak of ['integer', 'syntax', 'insert', 'profiles', 'not a number']) expect(result.error!.details).not.toContain(leak);
    expect(await h.counts()).toEqual(before);
  });
});
