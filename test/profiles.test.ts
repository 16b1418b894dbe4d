import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Role, type Profile } from '../src/generated/coaching/v1/profile';
import { coachingApi } from './support/grpcClient';
import { useHarness } from './support/harness';
import { createTestDatabase, type TestDatabase } from './support/testDatabase';
import { startTestService, type TestService } from './support/testService';
import { ms } from './support/timestamps';

let db: TestDatabase;
let svc: TestService;
let api: ReturnType<typeof coachingApi>;
let seq = 0;

function newProfile(overrides: Partial<Profile> = {}): Profile {
  seq += 1;
  return {
    id: '',
    role: Role.ROLE_PARTICIPANT,
    email: `person${seq}-${randomUUID().slice(0, 8)}@example.com`,
    displayName: `Person ${seq}`,
    timezone: 'Europe/Berlin',
    bio: 'hello',
    createTime: undefined,
    updateTime: undefined,
    etag: '',
    ...overrides,
  };
}

async function countProfiles(): Promise<number> {
  const [row] = await db.query<{ n: string }>('select count(*) as n from profiles');
  return Number(row!.n);
}

const h = useHarness();
beforeAll(() => ({ db, svc, api } = h));

describe('create, get, update, delete', () => {
  it('round-trips a profile with timestamps and etag', async () => {
    const created = (await api.ok('createProfile', { profile: newProfile({ role: Role.ROLE_COACH, bio: 'coach' }), requestId: '' })).profile!;
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.role).toBe(Role.ROLE_COACH);
    expect(created.etag).not.toBe('');
    expect(created.createTime).toEqual({ seconds: expect.stringMatching(/^\d+$/), nanos: expect.any(Number) });
    expect(Math.abs(ms(created.createTime) - Date.now())).toBeLessThan(60_000);

    const got = (await api.ok('getProfile', { id: created.id })).profile!;
    expect(got).toEqual(created);

    const updated = (await api.ok('updateProfile', { profile: { ...got, displayName: 'Renamed', bio: 'ignored' }, updateMask: ['display_name'] })).profile!;
    expect(updated.displayName).toBe('Renamed');
    expect(updated.bio).toBe('coach'); // not in the mask: unchanged
    expect(updated.etag).not.toBe(got.etag);
    expect(ms(updated.updateTime)).toBeGreaterThanOrEqual(ms(got.updateTime));

    await api.ok('deleteProfile', { id: created.id, etag: updated.etag, force: false });
    const gone = await api.call('getProfile', { id: created.id });
    expect(gone.error?.code).toBe(status.NOT_FOUND);
  });

  it('echoes the caller x-request-id, or generates one', async () => {
    // An error carries it in its trailers: it has no response headers (trailers-only, so that clients may retry it).
    const given = await api.call('getProfile', { id: randomUUID() }, { metadata: { 'x-request-id': 'corr-123' } });
    expect(given.error?.metadata.get('x-request-id')).toEqual(['corr-123']);
    expect(given.headers?.get('x-request-id') ?? []).toEqual([]);
    const generated = await api.call('getProfile', { id: randomUUID() });
    expect(String(generated.error?.metadata.get('x-request-id')[0])).toMatch(/^[0-9a-f-]{36}$/);
    // A response carries it in its headers.
    const existing = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const found = await api.call('getProfile', { id: existing.id }, { metadata: { 'x-request-id': 'corr-456' } });
    expect(found.headers?.get('x-request-id')).toEqual(['corr-456']);
    const foundGenerated = await api.call('getProfile', { id: existing.id });
    expect(String(foundGenerated.headers?.get('x-request-id')[0])).toMatch(/^[0-9a-f-]{36}$/);
    const line = svc.logs.records().find((r) => r.correlationId === 'corr-123');
    expect(line).toMatchObject({ method: 'GetProfile', code: 'NOT_FOUND', msg: 'rpc finished' });
    expect(typeof line?.durationMs).toBe('number');
  });
});

describe('INVALID_ARGUMENT names the field and writes nothing', () => {
  const cases: [string, Partial<Profile>, string][] = [
    ['email', { email: 'not-an-email' }, 'profile.email'],
    ['long email', { email: `${'a'.repeat(250)}@example.com` }, 'profile.email'],
    ['empty display name', { displayName: '   ' }, 'profile.display_name'],
    ['long display name', { displayName: 'x'.repeat(101) }, 'profile.display_name'],
    ['unknown timezone', { timezone: 'Mars/Olympus' }, 'profile.timezone'],
    ['unspecified role', { role: Role.ROLE_UNSPECIFIED }, 'profile.role'],
    ['long bio', { bio: 'b'.repeat(2001) }, 'profile.bio'],
  ];
  it.each(cases)('rejects %s', async (_name, overrides, field) => {
    const before = await countProfiles();
    const result = await api.call('createProfile', { profile: newProfile(overrides), requestId: '' });
    expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(result.error?.details).toContain(field);
    expect(await countProfiles()).toBe(before);
  });

  it('rejects a missing profile, a bad request_id, a bad id, bad update_mask paths and negative page_size', async () => {
    expect((await api.call('createProfile', { profile: undefined, requestId: '' })).error?.details).toContain('profile');
    expect((await api.call('createProfile', { profile: newProfile(), requestId: 'abc' })).error?.details).toContain('request_id');
    const badId = await api.call('getProfile', { id: 'not-a-uuid' });
    expect(badId.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(badId.error?.details).toContain('id: must be a UUID');

    const p = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const badPath = await api.call('updateProfile', { profile: { ...p, role: Role.ROLE_COACH }, updateMask: ['role'] });
    expect(badPath.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(badPath.error?.details).toContain('update_mask');
    const emptyMask = await api.call('updateProfile', { profile: p, updateMask: [] });
    expect(emptyMask.error?.details).toContain('update_mask');
    const badValue = await api.call('updateProfile', { profile: { ...p, timezone: 'Nowhere/City' }, updateMask: ['timezone'] });
    expect(badValue.error?.details).toContain('profile.timezone');
    expect((await api.ok('getProfile', { id: p.id })).profile).toEqual(p);

    const negative = await api.call('listProfiles', { pageSize: -1, pageToken: '', role: Role.ROLE_UNSPECIFIED });
    expect(negative.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(negative.error?.details).toContain('page_size');
  });
});

describe('uniqueness, idempotency and optimistic concurrency', () => {
  it('treats emails case-insensitively: ALREADY_EXISTS and one row', async () => {
    const email = `Case.${randomUUID().slice(0, 8)}@Example.com`;
    await api.ok('createProfile', { profile: newProfile({ email }), requestId: '' });
    const dup = await api.call('createProfile', { profile: newProfile({ email: email.toLowerCase() }), requestId: '' });
    expect(dup.error?.code).toBe(status.ALREADY_EXISTS);
    expect(dup.error?.metadata.get('x-error-reason')).toEqual(['EMAIL_TAKEN']);
    const rows = await db.query('select id from profiles where lower(email) = lower($1)', [email]);
    expect(rows).toHaveLength(1);
  });

  it('creates once for many parallel calls with one request_id, and returns the same profile to all', async () => {
    const requestId = randomUUID();
    const profile = newProfile();
    const results = await Promise.all(Array.from({ length: 20 }, () => api.call('createProfile', { profile, requestId })));
    expect(results.map((r) => r.error?.code)).toEqual(Array(20).fill(undefined));
    const ids = new Set(results.map((r) => r.response!.profile!.id));
    expect(ids.size).toBe(1);
    expect(await db.query('select id from profiles where email = $1', [profile.email])).toHaveLength(1);
    // A later retry (e.g. after a lost reply) still gets the original.
    const retry = await api.ok('createProfile', { profile, requestId });
    expect(retry.profile).toEqual(results[0]!.response!.profile);
  });

  it('refuses a request_id reused for a different payload', async () => {
    const requestId = randomUUID();
    await api.ok('createProfile', { profile: newProfile(), requestId });
    const other = newProfile();
    const reuse = await api.call('createProfile', { profile: other, requestId });
    expect(reuse.error?.code).toBe(status.ALREADY_EXISTS);
    expect(reuse.error?.metadata.get('x-error-reason')).toEqual(['REQUEST_ID_REUSED']);
    expect(await db.query('select id from profiles where email = $1', [other.email])).toHaveLength(0);
  });

  it('lets exactly one of several racing updates with the same etag win; the others get ABORTED', async () => {
    const p = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i: number) => api.call('updateProfile', { profile: { ...p, bio: `writer ${i}` }, updateMask: ['bio'] })),
    );
    const winners = results.filter((r) => r.error === undefined);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.error?.code === status.ABORTED)).toHaveLength(7);
    const [row] = await db.query<{ bio: string; version: number }>('select bio, version from profiles where id = $1', [p.id]);
    expect(row).toEqual({ bio: winners[0]!.response!.profile!.bio, version: 2 });
  });

  it('refuses a stale etag on update and delete with ABORTED and changes nothing', async () => {
    const p = (await api.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!;
    const fresh = (await api.ok('updateProfile', { profile: { ...p, bio: 'v2' }, updateMask: ['bio'] })).profile!;
    const staleUpdate = await api.call('updateProfile', { profile: { ...p, bio: 'stale' }, updateMask: ['bio'] });
    expect(staleUpdate.error?.code).toBe(status.ABORTED);
    const staleDelete = await api.call('deleteProfile', { id: p.id, etag: p.etag, force: false });
    expect(staleDelete.error?.code).toBe(status.ABORTED);
    const garbage = await api.call('deleteProfile', { id: p.id, etag: 'garbage', force: false });
    expect(garbage.error?.code).toBe(status.ABORTED);
    expect((await api.ok('getProfile', { id: p.id })).profile).toEqual(fresh);
    const missing = await api.call('deleteProfile', { id: randomUUID(), etag: fresh.etag, force: false });
    expect(missing.error?.code).toBe(status.NOT_FOUND);
  });
});

describe('listing', () => {
  it('pages in a stable order with no duplicates or gaps while rows are inserted between pages', async () => {
    const other = await createTestDatabase();
    const isolated = await startTestService(other.config());
    const iso = coachingApi(isolated.client);
    try {
      const initial = [];
      for (let i = 0; i < 7; i++) initial.push((await iso.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!.id);
      const seen: string[] = [];
      const inserted: string[] = [];
      let token = '';
      do {
        const page = await iso.ok('listProfiles', { pageSize: 3, pageToken: token, role: Role.ROLE_UNSPECIFIED });
        expect(page.profiles.length).toBeLessThanOrEqual(3);
        seen.push(...page.profiles.map((p) => p.id));
        token = page.nextPageToken;
        if (token !== '' && inserted.length < 4) inserted.push((await iso.ok('createProfile', { profile: newProfile(), requestId: '' })).profile!.id);
      } while (token !== '');
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...initial, ...inserted]);
    } finally {
      await isolated.stop();
      await other.drop();
    }
  });

  it('filters by role, defaults page_size to 50 and clamps it to 100', async () => {
    const other = await createTestDatabase();
    const isolated = await startTestService(other.config());
    const iso = coachingApi(isolated.client);
    try {
      await other.query(
        `insert into profiles (role, email, display_name, timezone)
         select case when i % 3 = 0 then 'COACH' else 'PARTICIPANT' end, 'bulk' || i || '@example.com', 'Bulk ' || i, 'UTC' from generate_series(1, 150) i`,
      );
      const first = await iso.ok('listProfiles', { pageSize: 0, pageToken: '', role: Role.ROLE_UNSPECIFIED });
      expect(first.profiles).toHaveLength(50);
      const clamped = await iso.ok('listProfiles', { pageSize: 1000, pageToken: '', role: Role.ROLE_UNSPECIFIED });
      expect(clamped.profiles).toHaveLength(100);
      const coaches = await iso.ok('listProfiles', { pageSize: 100, pageToken: '', role: Role.ROLE_COACH });
      expect(coaches.profiles).toHaveLength(50);
      expect(coaches.profiles.every((p) => p.role === Role.ROLE_COACH)).toBe(true);
      expect(coaches.nextPageToken).toBe('');
    } finally {
      await isolated.stop();
      await other.drop();
    }
  });

  it('rejects tampered page tokens and tokens used with another filter', async () => {
    for (let i = 0; i < 3; i++) await api.ok('createProfile', { profile: newProfile(), requestId: '' });
    const page = await api.ok('listProfiles', { pageSize: 1, pageToken: '', role: Role.ROLE_UNSPECIFIED });
    const token = page.nextPageToken;
    expect(token).not.toBe('');
    const [body, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify([0, '00000000-0000-4000-8000-000000000000', 'role='])).toString('base64url');
    // Change the signature's last character to one it is not (a fixed 'A' is the original one time in 64).
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [`${forged}.${sig}`, `${body}.${flipped}`, 'garbage', `${body}`]) {
      const result = await api.call('listProfiles', { pageSize: 1, pageToken: bad, role: Role.ROLE_UNSPECIFIED });
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error?.details).toContain('page_token');
    }
    const otherFilter = await api.call('listProfiles', { pageSize: 1, pageToken: token, role: Role.ROLE_COACH });
    expect(otherFilter.error?.code).toBe(status.INVALID_ARGUMENT);
  });
});
