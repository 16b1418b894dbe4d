import type { NewProfile } from '../domain/profile';
import type { ProgramStatus } from '../domain/program';
import type { SessionStatus } from '../domain/session';

/**
 * The development world: two coaches, four participants, programs in every
 * status, enrollments at different stages and sessions in every status.
 * Times are fixed (weeks around ANCHOR), so that seeding twice asks for
 * exactly the same rows.
 */
export const ANCHOR = Date.UTC(2026, 10, 2, 0, 0); // Monday 2 November 2026, 00:00 UTC

export const SEED_PROFILES: readonly NewProfile[] = [
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
  { role: 'PARTICIPANT', email: 'priya.participant@example.com', displayName: 'Priya Raman', timezone: 'Asia/Kolkata', bio: 'Preparing for a staff role.' },
];

export interface SeedProgram {
  readonly key: string;
  readonly coach: string;
  readonly title: string;
  readonly description: string;
  readonly totalSessions: number;
  /** Where the program ends up; it is ACTIVE while its enrollments and sessions are made. */
  readonly finalStatus: ProgramStatus;
}

export const SEED_PROGRAMS: readonly SeedProgram[] = [
  {
    key: 'foundations',
    coach: 'ada.coach@example.com',
    title: 'New Manager Foundations',
    description: 'Four sessions on one-to-ones, feedback, delegation and hiring.',
    totalSessions: 4,
    finalStatus: 'ACTIVE',
  },
  {
    key: 'interviews',
    coach: 'mateo.coach@example.com',
    title: 'Interview Practice Sprint',
    description: 'Three mock interviews with written feedback.',
    totalSessions: 3,
    finalStatus: 'ACTIVE',
  },
  {
    key: 'reset',
    coach: 'mateo.coach@example.com',
    title: 'Career Reset (spring cohort)',
    description: 'Two sessions to plan a career change. Finished.',
    totalSessions: 2,
    finalStatus: 'ARCHIVED',
  },
  {
    key: 'presence',
    coach: 'ada.coach@example.com',
    title: 'Executive Presence',
    description: 'Six sessions; still being prepared.',
    totalSessions: 6,
    finalStatus: 'DRAFT',
  },
];

export interface SeedEnrollment {
  readonly participant: string;
  readonly program: string;
  /** Withdrawn after its sessions were made. */
  readonly withdrawn?: boolean;
}

export const SEED_ENROLLMENTS: readonly SeedEnrollment[] = [
  { participant: 'lin.participant@example.com', program: 'foundations' },
  { participant: 'sam.participant@example.com', program: 'foundations' },
  { participant: 'noor.participant@example.com', program: 'interviews' },
  { participant: 'priya.participant@example.com', program: 'interviews', withdrawn: true },
  { participant: 'lin.participant@example.com', program: 'reset' },
];

export interface SeedSession {
  readonly participant: string;
  readonly program: string;
  /** Days after ANCHOR (negative: before) and the UTC hour of the start. */
  readonly day: number;
  readonly hour: number;
  readonly minutes: number;
  readonly outcome: SessionStatus;
  readonly notes: string;
}

const session = (participant: string, program: string, day: number, hour: number, outcome: SessionStatus, notes = ''): SeedSession => ({
  participant: `${participant}.participant@example.com`,
  program,
  day,
  hour,
  minutes: 60,
  outcome,
  notes,
});

export const SEED_SESSIONS: readonly SeedSession[] = [
  session('lin', 'reset', -180, 9, 'COMPLETED', 'Mapped strengths and constraints.'),
  session('lin', 'reset', -173, 9, 'COMPLETED', 'Chose two target roles.'),
  session('lin', 'foundations', -21, 9, 'COMPLETED', 'One-to-ones: agreed a weekly cadence.'),
  session('lin', 'foundations', -14, 9, 'COMPLETED', 'Feedback: practised SBI.'),
  session('lin', 'foundations', -7, 9, 'CANCELLED', 'Coach travelling; moved to next month.'),
  session('lin', 'foundations', 35, 9, 'SCHEDULED'),
  session('sam', 'foundations', -10, 14, 'NO_SHOW'),
  session('sam', 'foundations', 38, 14, 'SCHEDULED'),
  session('noor', 'interviews', -12, 16, 'COMPLETED', 'Behavioural round.'),
  session('noor', 'interviews', -9, 16, 'COMPLETED', 'System design round.'),
  session('noor', 'interviews', -5, 16, 'COMPLETED', 'Final mock; ready.'),
  session('priya', 'interviews', -3, 12, 'CANCELLED', 'Withdrew from the sprint.'),
];
