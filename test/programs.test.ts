import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Program, ProgramStatus } from '../src/generated/coaching/v1/program';
import { expectError } from './support/errorDetails';
import { useHarness } from './support/harness';
import { at } from './support/world';

const h = useHarness();

describe('create, get, update, delete', () => {
  it('round-trips a program; status defaults to DRAFT; update_mask changes only the named fields', async () => {
    const coach = await h.w.coach();
    const draft = Program.fromPartial({ coachId: coach.id, title: '  Leading teams  ', description: 'Six weeks', totalSessions: 6 });
    const created = (await h.api.ok('createProgram', { program: draft, requestId: '' })).program!;
    expect(created).toMatchObject({
      coachId: coach.id,
      title: 'Leading teams',
      description: 'Six weeks',
      totalSessions: 6,
      status: ProgramStatus.PROGRAM_STATUS_DRAFT,
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.etag).not.toBe('');
    expect((await h.api.ok('getProgram', { id: created.id })).program).toEqual(created);

    const updated = (
      await h.api.ok('updateProgram', {
        program: { ...created, status: ProgramStatus.PROGRAM_STATUS_ACTIVE, title: 'ignored', totalSessions: 8 },
        updateMask: ['status', 'total_sessions'],
      })
    ).program!;
    expect(updated).toMatchObject({ status: ProgramStatus.PROGRAM_STATUS_ACTIVE, totalSessions: 8, title: 'Leading teams' });
    expect(updated.etag).not.toBe(created.etag);

    expectError(await h.api.call('deleteProgram', { id: created.id, etag: created.etag, force: false }), status.ABORTED, 'ETAG_MISMATCH');
    await h.api.ok('deleteProgram', { id: created.id, etag: updated.etag, force: false });
    expectError(await h.api.call('getProgram', { id: created.id }), status.NOT_FOUND, 'NOT_FOUND');
  });

  it('is idempotent by request_id, also for parallel calls', async () => {
    const coach = await h.w.coach();
    const requestId = randomUUID();
    const program = Program.fromPartial({ coachId: coach.id, title: 'Once', totalSessions: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, () => h.api.call('createProgram', { program, requestId })));
    expect(new Set(results.map((r) => r.response?.program?.id)).size).toBe(1);
    expect(await h.db.query('select id from programs where coach_id = $1', [coach.id])).toHaveLength(1);
    const reuse = await h.api.call('createProgram', { program: { ...program, title: 'Other' }, requestId });
    expectError(reuse, status.ALREADY_EXISTS, 'REQUEST_ID_REUSED');
  });
});

describe('rules', () => {
  it('requires the coach to exist and to be a COACH, and writes nothing otherwise', async () => {
    const participant = await h.w.participant();
    const before = await h.counts();
    const notCoach = await h.api.call('createProgram', {
      program: Program.fromPartial({ coachId: participant.id, title: 'X', totalSessions: 1 }),
      requestId: '',
    });
    expect(expectError(notCoach, status.FAILED_PRECONDITION, 'NOT_A_COACH').errorInfo?.metadata).toMatchObject({ role: 'PARTICIPANT' });
    const missing = await h.api.call('createProgram', { program: Program.fromPartial({ coachId: randomUUID(), title: 'X', totalSessions: 1 }), requestId: '' });
    expectError(missing, status.FAILED_PRECONDITION, 'COACH_NOT_FOUND');
    expect(await h.counts()).toEqual(before);
  });

  it('validates every field with INVALID_ARGUMENT naming it', async () => {
    const coach = await h.w.coach();
    const cases: [Partial<Program>, string][] = [
      [{ coachId: 'nope' }, 'program.coach_id'],
      [{ title: '   ' }, 'program.title'],
      [{ title: 't'.repeat(201) }, 'program.title'],
      [{ description: 'd'.repeat(5001) }, 'program.description'],
      [{ totalSessions: 0 }, 'program.total_sessions'],
      [{ totalSessions: 101 }, 'program.total_sessions'],
      [{ totalSessions: -3 }, 'program.total_sessions'],
      [{ status: 42 as ProgramStatus }, 'program.status'],
    ];
    const before = await h.counts();
    for (const [fields, field] of cases) {
      const program = Program.fromPartial({ coachId: coach.id, title: 'Valid', totalSessions: 3, ...fields });
      const result = await h.api.call('createProgram', { program, requestId: '' });
      const { badRequest } = expectError(result, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual([field]);
    }
    expect(await h.counts()).toEqual(before);
  });

  it('database checks mirror the validation', async () => {
    const coach = await h.w.coach();
    for (const statement of [
      `insert into programs (coach_id, title, total_sessions) values ($1, '  ', 3)`,
      `insert into programs (coach_id, title, total_sessions) values ($1, 'T', 0)`,
      `insert into programs (coach_id, title, total_sessions, status) values ($1, 'T', 3, 'PAUSED')`,
    ]) {
      await expect(h.db.query(statement, [coach.id])).rejects.toMatchObject({ code: '23514' });
    }
  });

  it('refuses to change total_sessions once participants are enrolled, but allows other changes', async () => {
    const { program, enrollment } = await h.w.enrolled(3);
    expect(enrollment.id).toBeDefined();
    const refused = await h.api.call('updateProgram', { program: { ...program, totalSessions: 5 }, updateMask: ['total_sessions'] });
    expect(expectError(refused, status.FAILED_PRECONDITION, 'PROGRAM_HAS_ENROLLMENTS').errorInfo?.metadata).toEqual({ enrollments: '1' });
    expect((await h.api.ok('getProgram', { id: program.id })).program).toEqual(program);
    const same = await h.api.ok('updateProgram', { program: { ...program, totalSessions: 3, title: 'Renamed' }, updateMask: ['total_sessions', 'title'] });
    expect(same.program).toMatchObject({ totalSessions: 3, title: 'Renamed' });
  });

  it("refuses to lower total_sessions below a participant's progress, keeping program and progress; without enrollments it may", async () => {
    const { program, participant, enrollment, book } = await h.w.enrolled(3);
    for (const hours of [1, 3]) {
      const session = await book(at(hours));
      await h.api.ok('completeSession', { id: session.id, etag: session.etag, requestId: '', notes: '' });
    }
    const progress = async () => (await h.api.ok('getProgramProgress', { participantId: participant.id, programId: program.id })).progress!;
    const before = await progress();
    expect(before).toMatchObject({ completedSessions: 2, totalSessions: 3 });
    const lowered = await h.api.call('updateProgram', { program: { ...program, totalSessions: 1 }, updateMask: ['total_sessions'] });
    expectError(lowered, status.FAILED_PRECONDITION, 'PROGRAM_HAS_ENROLLMENTS');
    expect((await h.api.ok('getProgram', { id: program.id })).program).toEqual(program);
    expect(await progress()).toEqual({ ...before, readTime: { seconds: expect.any(String), nanos: expect.any(Number) } });
    // Once nobody is enrolled (the enrollment and its sessions deleted), the total is free to change.
    const current = (await h.api.ok('getEnrollment', { id: enrollment.id })).enrollment!;
    await h.api.ok('deleteEnrollment', { id: enrollment.id, etag: current.etag, force: true });
    const changed = await h.api.ok('updateProgram', { program: { ...program, totalSessions: 1 }, updateMask: ['total_sessions'] });
    expect(changed.program).toMatchObject({ totalSessions: 1 });
  });
});

describe('listing', () => {
  it('filters by coach and status, pages in creation order, and binds tokens to the filter', async () => {
    const coach = await h.w.coach();
    const other = await h.w.coach();
    const created: Program[] = [];
    for (let i = 0; i < 5; i++) {
      const status = i % 2 === 0 ? ProgramStatus.PROGRAM_STATUS_ACTIVE : ProgramStatus.PROGRAM_STATUS_ARCHIVED;
      created.push(await h.w.program(coach.id, { title: `P${i}`, status }));
    }
    await h.w.program(other.id);

    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await h.api.ok('listPrograms', { pageSize: 2, pageToken, coachId: coach.id, status: ProgramStatus.PROGRAM_STATUS_UNSPECIFIED });
      expect(page.programs.length).toBeLessThanOrEqual(2);
      seen.push(...page.programs.map((p) => p.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual(created.map((p) => p.id));

    const active = await h.api.ok('listPrograms', { pageSize: 10, pageToken: '', coachId: coach.id, status: ProgramStatus.PROGRAM_STATUS_ACTIVE });
    expect(active.programs.map((p) => p.title)).toEqual(['P0', 'P2', 'P4']);

    const first = await h.api.ok('listPrograms', { pageSize: 1, pageToken: '', coachId: coach.id, status: ProgramStatus.PROGRAM_STATUS_UNSPECIFIED });
    const wrongFilter = await h.api.call('listPrograms', {
      pageSize: 1,
      pageToken: first.nextPageToken,
      coachId: other.id,
      status: ProgramStatus.PROGRAM_STATUS_UNSPECIFIED,
    });
    expect(expectError(wrongFilter, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations[0]?.field).toBe('page_token');
    const badFilter = await h.api.call('listPrograms', { pageSize: -1, pageToken: '', coachId: 'x', status: 9 as ProgramStatus });
    expect(expectError(badFilter, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT').badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'coach_id',
      'status',
      'page_size',
    ]);
  });
});
