import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AlreadyExistsError } from '../domain/errors';
import { toEtag } from '../domain/etag';
import { PageTokenCodec } from '../domain/PageTokenCodec';
import type { ProfileRecord } from '../domain/profile';
import type { ProgramRecord } from '../domain/program';
import { profileRepository } from '../repositories/profileRepository';
import { createEnrollmentService } from '../services/enrollmentService';
import type { ChangeLog } from '../services/changeLog';
import { createProfileService } from '../services/profileService';
import { createProgramService } from '../services/programService';
import { createSessionService } from '../services/sessionService';
import type { DatabaseGateway } from '../db/DatabaseGateway';
import { ANCHOR, SEED_ENROLLMENTS, SEED_PROFILES, SEED_PROGRAMS, SEED_SESSIONS } from './seedWorld';

/** A stable request_id per seed step (a name-based UUID), so a second run replays instead of adding rows. */
export function seedRequestId(step: string): string {
  const hex = createHash('sha256').update(`coaching-service seed: ${step}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What the development world consists of after seeding. */
export interface SeedSummary {
  readonly profiles: number;
  readonly programs: number;
  readonly enrollments: number;
  readonly sessions: number;
}

/**
 * Idempotent development data, written through the services so every rule
 * (roles, enrollment, double booking, progress) holds for it. Each create and
 * completion carries a request_id derived from its step, so a second run gets
 * the stored results back and writes nothing; status changes are applied only
 * when the current state differs. Profiles that exist by email are kept.
 */
export async function seedDevelopmentData(
  db: DatabaseGateway,
  logger: Logger,
  // Seeded writes produce their events like any other write.
  changes: ChangeLog,
): Promise<SeedSummary> {
  // The seed never lists, so its page tokens are never issued.
  const deps = { db, pageTokens: new PageTokenCodec('seed-issues-no-page-tokens'), changes };
  const profiles = createProfileService(deps);
  const programs = createProgramService(deps);
  const enrollments = createEnrollmentService(deps);
  const sessions = createSessionService(deps);

  const people = new Map<string, ProfileRecord>();
  for (const input of SEED_PROFILES) {
    try {
      people.set(input.email, await profiles.create(input, seedRequestId(`profile ${input.email}`)));
    } catch (error) {
      const existing =
        error instanceof AlreadyExistsError ? await db.read('profiles.findByEmail', (c) => profileRepository.findByEmail(c, input.email)) : undefined;
      if (existing === undefined) throw error;
      people.set(input.email, existing);
    }
  }
  const person = (email: string) => people.get(email)!;

  const catalogue = new Map<string, ProgramRecord>();
  for (const p of SEED_PROGRAMS) {
    const input = { coachId: person(p.coach).id, title: p.title, description: p.description, status: 'ACTIVE' as const, totalSessions: p.totalSessions };
    catalogue.set(p.key, await programs.create(input, seedRequestId(`program ${p.key}`)));
  }
  const program = (key: string) => catalogue.get(key)!;

  const withdrawals: string[] = [];
  for (const e of SEED_ENROLLMENTS) {
    const input = { participantId: person(e.participant).id, programId: program(e.program).id };
    const created = await enrollments.create(input, seedRequestId(`enrollment ${e.participant} ${e.program}`));
    if (e.withdrawn === true) withdrawals.push(created.id);
  }

  for (const s of SEED_SESSIONS) {
    const step = `session ${s.participant} ${s.program} ${s.day}`;
    const { coachId, id: programId } = program(s.program);
    const start = new Date(ANCHOR + s.day * 86_400_000 + s.hour * 3_600_000);
    const input = { programId, coachId, participantId: person(s.participant).id, scheduledStart: start, durationMinutes: s.minutes, notes: '' };
    const created = await sessions.create(input, seedRequestId(step));
    if (s.outcome === 'COMPLETED') {
      await sessions.complete(created.id, toEtag(created.version), s.notes, seedRequestId(`complete ${step}`));
    } else {
      const current = await sessions.get(created.id);
      if (current.status !== s.outcome || current.notes !== s.notes) {
        await sessions.update(current.id, toEtag(current.version), { status: s.outcome, notes: s.notes });
      }
    }
  }

  for (const id of withdrawals) {
    const current = await enrollments.get(id);
    if (current.status !== 'WITHDRAWN') await enrollments.update(id, toEtag(current.version), { status: 'WITHDRAWN' });
  }

  for (const p of SEED_PROGRAMS) {
    const current = await programs.get(program(p.key).id);
    if (current.status !== p.finalStatus) await programs.update(current.id, toEtag(current.version), { status: p.finalStatus });
  }

  const summary = { profiles: people.size, programs: catalogue.size, enrollments: SEED_ENROLLMENTS.length, sessions: SEED_SESSIONS.length };
  logger.info(summary, 'development seed data in place');
  return summary;
}
