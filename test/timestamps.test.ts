import { status } from '@grpc/grpc-js';
import { parseTimestamptz } from '../src/db/timestamptzParser';
import { INSTANT_RANGE } from '../src/domain/instants';
import { Session } from '../src/generated/coaching/v1/session';
import type { Timestamp } from '../src/generated/google/protobuf/timestamp';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { ms } from './support/timestamps';

const h = useHarness();

const iso = (timestamp: Timestamp | undefined) => new Date(ms(timestamp)).toISOString();
/** A wire timestamp from ISO text, written without Date.UTC's two-digit-year rule. */
function wire(text: string, nanos?: number): Timestamp {
  const millis = new Date(text).getTime();
  expect(Number.isFinite(millis)).toBe(true);
  const seconds = Math.floor(millis / 1000);
  return { seconds: String(seconds), nanos: nanos ?? (millis - seconds * 1000) * 1_000_000 };
}

describe('parseTimestamptz (PostgreSQL ISO text to epoch milliseconds)', () => {
  it.each([
    ['0001-01-01 00:00:00+00', '0001-01-01T00:00:00.000Z'],
    ['0050-03-01 10:00:00.123+00', '0050-03-01T10:00:00.123Z'],
    ['0099-12-31 23:59:59.999+00', '0099-12-31T23:59:59.999Z'],
    ['9999-12-31 23:59:59.999+00', '9999-12-31T23:59:59.999Z'],
    ['2024-05-01 14:00:00.5+02', '2024-05-01T12:00:00.500Z'],
    ['1890-01-01 00:53:28+00:53:28', '1890-01-01T00:00:00.000Z'],
    ['2024-05-01 12:00:00.123456-05:30', '2024-05-01T17:30:00.123Z'],
  ])('reads %s as %s', (text, expected) => {
    expect(new Date(parseTimestamptz(text)).toISOString()).toBe(expected);
  });

  it('reads BC years and five-digit years, and the infinities', () => {
    expect(new Date(parseTimestamptz('0001-12-31 23:59:59+00 BC')).getUTCFullYear()).toBe(0);
    expect(new Date(parseTimestamptz('10000-01-01 00:00:00+00')).getUTCFullYear()).toBe(10000);
    expect(parseTimestamptz('infinity')).toBe(Number.POSITIVE_INFINITY);
    expect(parseTimestamptz('-infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(() => parseTimestamptz('05/01/2024 12:00:00 UTC')).toThrow(/DateStyle/);
  });

  it("agrees with PostgreSQL's own epoch for the text it prints, whatever the session time zone", async () => {
    const rows = await h.db.query<{ text: string; epoch_ms: string }>(
      `select t::text as text, (extract(epoch from t) * 1000)::bigint::text as epoch_ms
       from unnest(array['0001-01-01T00:00:00Z', '0050-03-01T10:00:00.123Z', '1969-12-31T23:59:59.5Z', '9999-12-31T23:59:59.999Z']::timestamptz[]) as t`,
    );
    for (const row of rows) expect(parseTimestamptz(row.text)).toBe(Number(row.epoch_ms));
  });
});

describe('timestamps in requests', () => {
  const scheduled = async (scheduledStart: Timestamp | undefined) => {
    const { coach, participant, program } = await h.w.enrolled();
    return h.api.call('createSession', {
      session: Session.fromPartial({ programId: program.id, coachId: coach.id, participantId: participant.id, scheduledStart, durationMinutes: 30 }),
      requestId: '',
    });
  };

  it.each([
    ['0001-01-01T00:00:00.000Z'],
    ['0050-03-01T10:00:00.123Z'],
    ['0099-12-31T12:00:00.000Z'],
    ['1969-12-31T23:59:59.500Z'],
    ['9999-12-31T23:29:59.999Z'],
  ])('%s is stored and read back exactly, with nanos 0..999 999 999 on the way out', async (text) => {
    const created = await scheduled(wire(text));
    expect(created.error).toBeUndefined();
    const session = created.response!.session!;
    expect(iso(session.scheduledStart)).toBe(text);
    expect(session.scheduledStart!.nanos).toBeGreaterThanOrEqual(0);
    expect(iso((await h.api.ok('getSession', { id: session.id })).session!.scheduledStart)).toBe(text);
    const [row] = await h.db.query<{ same: boolean }>('select scheduled_start = $2::timestamptz as same from sessions where id = $1', [session.id, text]);
    expect(row!.same).toBe(true);
    const listed = await h.api.ok('listSessions', {
      participantId: session.participantId,
      scheduledStartFrom: session.scheduledStart,
      scheduledStartUntil: wire(new Date(ms(session.scheduledStart) + 1).toISOString()),
      pageSize: 0,
      pageToken: '',
      programId: '',
      coachId: '',
      status: 0,
    });
    expect(listed.sessions.map((s) => s.id)).toEqual([session.id]);
  });

  it('drops digits below the millisecond (the stored precision)', async () => {
    const created = await scheduled(wire('2031-03-01T10:00:00.123Z', 123_456_789));
    expect(created.response!.session!.scheduledStart).toEqual({ ...wire('2031-03-01T10:00:00.123Z'), nanos: 123_000_000 });
  });

  it.each([
    ['year 0', { seconds: String(INSTANT_RANGE.minSeconds - 1), nanos: 0 }, 'session.scheduled_start'],
    ['year 10000', { seconds: String(INSTANT_RANGE.maxSeconds + 1), nanos: 0 }, 'session.scheduled_start'],
    ['the largest int64', { seconds: '9223372036854775807', nanos: 0 }, 'session.scheduled_start'],
    ['the smallest int64', { seconds: '-9223372036854775808', nanos: 0 }, 'session.scheduled_start'],
    ['nanos -1', { seconds: '1900000000', nanos: -1 }, 'session.scheduled_start.nanos'],
    ['nanos 1 000 000 000', { seconds: '1900000000', nanos: 1_000_000_000 }, 'session.scheduled_start.nanos'],
    ['nanos 2^31-1', { seconds: '1900000000', nanos: 2_147_483_647 }, 'session.scheduled_start.nanos'],
  ])('%s is INVALID_ARGUMENT naming the field, and nothing is written', async (_name, scheduledStart, field) => {
    const { coach, participant, program } = await h.w.enrolled();
    const before = await h.counts();
    const result = await h.api.call('createSession', {
      session: Session.fromPartial({ programId: program.id, coachId: coach.id, participantId: participant.id, scheduledStart, durationMinutes: 30 }),
      requestId: '',
    });
    const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual([field]);
    expect(await h.counts()).toEqual(before);
  });

  it('are checked in UpdateSession and in the ListSessions filters, far-out ranges included', async () => {
    const { book } = await h.w.enrolled();
    const session = await book(wire('2031-04-01T10:00:00Z'));
    const update = await h.api.call('updateSession', {
      session: { ...session, scheduledStart: { seconds: '-99999999999999', nanos: 0 } },
      updateMask: ['scheduled_start'],
    });
    expect(expectError(update, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'session.scheduled_start',
    ]);
    expect((await h.api.ok('getSession', { id: session.id })).session!.etag).toBe(session.etag);

    const list = (from?: Timestamp, until?: Timestamp) =>
      h.api.call('listSessions', {
        scheduledStartFrom: from,
        scheduledStartUntil: until,
        pageSize: 0,
        pageToken: '',
        programId: '',
        coachId: '',
        participantId: '',
        status: 0,
      });
    const far = await list({ seconds: '-9223372036854775808', nanos: 0 }, { seconds: '9223372036854775807', nanos: 999_999_999 });
    expect(expectError(far, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'scheduled_start_from',
      'scheduled_start_until',
    ]);
    const nanos = await list({ seconds: '0', nanos: -5 }, undefined);
    expect(expectError(nanos, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'scheduled_start_from.nanos',
    ]);
    // The widest range the service accepts is an ordinary query.
    const widest = await list({ seconds: String(INSTANT_RANGE.minSeconds), nanos: 0 }, { seconds: String(INSTANT_RANGE.maxSeconds), nanos: 999_999_999 });
    expect(widest.error).toBeUndefined();
    expect(widest.response!.sessions.length).toBeGreaterThan(0);
  });
});
