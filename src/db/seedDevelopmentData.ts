import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { AlreadyExistsError } from '../domain/errors';
import type { NewProfile } from '../domain/profile';
import { profileRepository } from '../repositories/profileRepository';

const PROFILES: readonly NewProfile[] = [
  {
    role: 'COACH',
    email: 'ada.coach@example.com',
    displayName: 'Ada Okafor',
    timezone: 'Europe/London',
    bio: 'Leadership coach, 12 years with engineering managers.',
  },
  {
    role: 'COACH',
    email: 'mateo.coach@example.com',
    displayName: 'Mateo Silva',
    timezone: 'America/Sao_Paulo',
    bio: 'Career transitions and interview practice.',
  },
  { role: 'PARTICIPANT', email: 'lin.participant@example.com', displayName: 'Lin Chen', timezone: 'Asia/Singapore', bio: '' },
  { role: 'PARTICIPANT', email: 'sam.participant@example.com', displayName: 'Sam Keller', timezone: 'Europe/Berlin', bio: 'New team lead.' },
  { role: 'PARTICIPANT', email: 'noor.participant@example.com', displayName: 'Noor Haddad', timezone: 'America/New_York', bio: '' },
];

/** Idempotent development data: a few coaches and participants (existing emails are left alone). */
export async function seedDevelopmentData(pool: DatabasePool, logger: Logger): Promise<number> {
  let created = 0;
  for (const profile of PROFILES) {
    try {
      await profileRepository.insert(pool, profile);
      created++;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
  logger.info({ created, kept: PROFILES.length - created }, 'development seed data loaded');
  return created;
}
