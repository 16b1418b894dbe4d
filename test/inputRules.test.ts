import { status } from '@grpc/grpc-js';
import { timeZoneNames } from '../src/domain/timeZones';
import { MAX_UPDATE_MASK_PATHS } from '../src/grpc/handlers/validation';
import { Enrollment } from '../src/generated/coaching/v1/enrollment';
import { Role } from '../src/generated/coaching/v1/profile';
import { Program } from '../src/generated/coaching/v1/program';
import { Session } from '../src/generated/coaching/v1/session';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { newProfile } from './support/profiles';
import { rawClient } from './support/rawClient';
import { at } from './support/world';

// Requests of several MiB test the rules behind the receive limit (256 KiB by default), which an operator may raise.
const h = useHarness({ env: { GRPC_MAX_RECEIVE_MESSAGE_BYTES: String(8 * 1024 * 1024) } });

/** Expects INVALID_ARGUMENT whose BadRequest names exactly `fields`, and no row written anywhere. */
async function refused(call: Promise<{ error?: import('@grpc/grpc-js').ServiceError; response?: unknown }>, fields: string[], before: Record<string, number>) {
  const result = await call;
  const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual(fields);
  expect(await h.counts()).toEqual(before);
  return badRequest!;
}

describe('text fields', () => {
  it('refuse NUL and other control characters, naming the field; line breaks and tabs only in free-form text', async () => {
    const before = await h.counts();
    for (const bad of ['\u0000', 'a\u0001b', '\u001b[31m', 'x\u007f']) {
      await refused(h.api.call('createProfile', { profile: newProfile({ displayName: bad }), requestId: '' }), ['profile.display_name'], before);
      await refused(h.api.call('createProfile', { profile: newProfile({ bio: bad }), requestId: '' }), ['profile.bio'], before);
      await refused(h.api.call('createProfile', { profile: newProfile({ email: `a${bad}@example.com` }), requestId: '' }), ['profile.email'], before);
    }
    for (const layout of ['two\nlines', 'tab\there', 'crlf\r\n']) {
      await refused(h.api.call('createProfile', { profile: newProfile({ displayName: layout }), requestId: '' }), ['profile.display_name'], before);
    }
    const bio = 'First line\n\tindented\r\nlast line';
    const created = (await h.api.ok('createProfile', { profile: newProfile({ bio }), requestId: '' })).profile!;
    expect((await h.api.ok('getProfile', { id: created.id })).profile!.bio).toBe(bio);
  });

  it('refuse control characters in programs, sessions and CompleteSession notes too', async () => {
    const { coach, participant, program, book } = await h.w.enrolled();
    const before = await h.counts();
    await refused(
      h.api.call('createProgram', { program: Program.fromPartial({ coachId: coach.id, title: 'T\u0000', totalSessions: 1 }), requestId: '' }),
      ['program.title'],
      before,
    );
    await refused(
      h.api.call('createProgram', { program: Program.fromPartial({ coachId: coach.id, title: 'T', description: 'd\u0000', totalSessions: 1 }), requestId: '' }),
      ['program.description'],
      before,
    );
    await refused(
      h.api.call('createSession', {
        session: Session.fromPartial({
          programId: program.id,
          coachId: coach.id,
          participantId: participant.id,
          scheduledStart: at(1),
          durationMinutes: 30,
          notes: '\u0000',
        }),
        requestId: '',
      }),
      ['session.notes'],
      before,
    );
    const session = await book(at(2));
    const afterBooking = await h.counts();
    await refused(h.api.call('completeSession', { id: session.id, etag: session.etag, requestId: '', notes: 'done\u0000' }), ['notes'], afterBooking);
    await refused(h.api.call('updateProgram', { program: { ...program, title: 'a\u0000' }, updateMask: ['title'] }), ['program.title'], afterBooking);
    expect((await h.api.ok('getProgram', { id: program.id })).program!.etag).toBe(program.etag);
  });

  it('count characters as PostgreSQL does (code points), so 100 emoji fit a 100-character name and read back whole', async () => {
    const name = '😀'.repeat(100);
    const created = (await h.api.ok('createProfile', { profile: newProfile({ displayName: name }), requestId: '' })).profile!;
    expect(created.displayName).toBe(name);
    const [row] = await h.db.query<{ n: number }>('select char_length(display_name) as n from profiles where id = $1', [created.id]);
    expect(row!.n).toBe(100);
    const before = await h.counts();
    await refused(h.api.call('createProfile', { profile: newProfile({ displayName: `${name}😀` }), requestId: '' }), ['profile.display_name'], before);
  });

  it('are bounded before any work: a 1 MiB value is refused at once with a short message', async () => {
    const before = await h.counts();
    const huge = 'x'.repeat(1024 * 1024);
    for (const [profile, field] of [
      [newProfile({ displayName: huge }), 'profile.display_name'],
      [newProfile({ bio: huge }), 'profile.bio'],
      [newProfile({ email: `${huge}@example.com` }), 'profile.email'],
      [newProfile({ timezone: huge }), 'profile.timezone'],
    ] as const) {
      const violations = await refused(h.api.call('createProfile', { profile, requestId: '' }, { deadlineMs: 10_000 }), [field], before);
      expect(Buffer.byteLength(violations.fieldViolations[0]!.description)).toBeLessThanOrEqual(256);
    }
    await refused(h.api.call('getProfile', { id: huge }, { deadlineMs: 10_000 }), ['id'], before);
    await refused(h.api.call('listProfiles', { pageSize: 1, pageToken: huge, role: Role.ROLE_UNSPECIFIED }, { deadlineMs: 10_000 }), ['page_token'], before);
    await refused(
      h.api.call('deleteProfile', { id: '3f1c2a9e-4b7d-4c1a-9e2f-0a1b2c3d4e5f', etag: huge, force: false }, { deadlineMs: 10_000 }),
      ['etag'],
      before,
    );
  });
});

describe('time zones', () => {
  it('accept every IANA name, links included, and store exactly what was sent', async () => {
    for (const timezone of [
      'Asia/Kolkata',
      'Asia/Calcutta',
      'Europe/Kyiv',
      'UTC',
      'Etc/GMT+5',
      'US/Eastern',
      'America/Argentina/Buenos_Aires',
      'Etc/UTC',
      'EST5EDT',
    ]) {
      const created = (await h.api.ok('createProfile', { profile: newProfile({ timezone }), requestId: '' })).profile!;
      expect(created.timezone).toBe(timezone);
      expect((await h.db.query('select timezone from profiles where id = $1', [created.id]))[0]).toEqual({ timezone });
    }
  });

  it('refuse offsets, other spellings and names that are not places, suggesting the spelling when only the case differs', async () => {
    const before = await h.counts();
    for (const timezone of ['+05:00', '-0800', 'GMT+5', 'Factory', 'localtime', 'posix/Europe/Berlin', 'Europe/Berlin ', 'Mars/Olympus_Mons']) {
      await refused(h.api.call('createProfile', { profile: newProfile({ timezone }), requestId: '' }), ['profile.timezone'], before);
    }
    const violations = await refused(
      h.api.call('createProfile', { profile: newProfile({ timezone: 'europe/kyiv' }), requestId: '' }),
      ['profile.timezone'],
      before,
    );
    expect(violations.fieldViolations[0]!.description).toContain('did you mean Europe/Kyiv?');
  });

  it('are a list that ICU and PostgreSQL both know, name for name', async () => {
    const names = timeZoneNames();
    expect(names.length).toBeGreaterThan(590);
    const unknownToIcu = names.filter((timeZone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone });
        return false;
      } catch {
        return true;
      }
    });
    expect(unknownToIcu).toEqual([]);
    const rows = await h.db.query<{ name: string }>('select name from unnest($1::text[]) as n(name) where name not in (select name from pg_timezone_names)', [
      names,
    ]);
    expect(rows).toEqual([]);
  });
});

describe('update_mask', () => {
  it('refuses names every JavaScript object has, and changes nothing', async () => {
    const profile = (await h.api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    for (const path of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
      const result = await h.api.call('updateProfile', { profile: { ...profile, bio: 'changed' }, updateMask: [path] });
      const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual(['update_mask']);
    }
    expect((await h.api.ok('getProfile', { id: profile.id })).profile).toEqual(profile);
  });

  it('counts a repeated path once', async () => {
    const profile = (await h.api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const updated = (await h.api.ok('updateProfile', { profile: { ...profile, bio: 'once' }, updateMask: ['bio', 'bio', 'bio'] })).profile!;
    expect(updated.bio).toBe('once');
    expect(updated.etag).toBe('"v2"');
  });

  it(`takes at most ${MAX_UPDATE_MASK_PATHS} paths and refuses 200 000 at once, before any work`, async () => {
    const profile = (await h.api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const seventeen = Array.from({ length: MAX_UPDATE_MASK_PATHS + 1 }, () => 'bio');
    expectError(await h.api.call('updateProfile', { profile, updateMask: seventeen }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    const many = Array.from({ length: 200_000 }, (_, i) => `path_${i}`);
    const started = performance.now();
    const result = await h.api.call(
      'updateProgram',
      { program: Program.fromPartial({ id: profile.id, etag: '"v1"' }), updateMask: many },
      { deadlineMs: 20_000 },
    );
    const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(badRequest?.fieldViolations).toEqual([expect.objectContaining({ field: 'update_mask', description: expect.stringContaining('at most 16 paths') })]);
    expect(performance.now() - started).toBeLessThan(20_000);
    for (const call of [
      h.api.call('updateEnrollment', { enrollment: Enrollment.fromPartial({ id: profile.id, etag: '"v1"' }), updateMask: many }, { deadlineMs: 20_000 }),
      h.api.call('updateSession', { session: Session.fromPartial({ id: profile.id, etag: '"v1"' }), updateMask: many }, { deadlineMs: 20_000 }),
    ]) {
      expectError(await call, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    }
    expect((await h.api.ok('getProfile', { id: profile.id })).profile).toEqual(profile);
  });
});

describe('bytes that are not a message', () => {
  it('are INVALID_ARGUMENT naming the request as a whole, not INTERNAL', async () => {
    const raw = rawClient(h.svc.service.port);
    try {
      // Field 1 length-delimited, with a length that runs past the end; then an invalid wire type 7.
      for (const bytes of [
        Buffer.from([0x0a, 0xff, 0x01]),
        Buffer.from([0x0f]),
        Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      ]) {
        const result = await raw.call('/coaching.v1.CoachingService/CreateProfile', bytes, 10_000);
        const { badRequest } = expectError({ error: result.error }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
        expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual(['']);
      }
    } finally {
      raw.close();
    }
  });
});

describe('a data exception that validation missed (defence in depth)', () => {
  afterAll(async () => {
    await h.db.query('alter table profiles alter column bio type text');
  });

  it('is INVALID_ARGUMENT without PostgreSQL text, never INTERNAL, and writes nothing', async () => {
    // A narrower column than the rules assume: PostgreSQL raises 22001 (string data right truncation).
    await h.db.query('alter table profiles alter column bio type varchar(40) using left(bio, 40)');
    const before = await h.counts();
    const result = await h.api.call('createProfile', { profile: newProfile({ bio: 'longer than three, and than forty characters' }), requestId: '' });
    const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(badRequest?.fieldViolations).toEqual([expect.objectContaining({ field: '', description: expect.stringContaining('SQLSTATE 22001') })]);
    for (const leak of ['varying', 'character', 'insert', 'profiles', 'longer than']) expect(result.error!.details).not.toContain(leak);
    expect(await h.counts()).toEqual(before);
  });
});
