/**
 * The seeded data set and the deterministic ids of its rows, shared by the
 * seeder (SQL), the load generators and pgbench scripts, so that every target
 * reads the same rows without first fetching id lists.
 *
 * Shape at scale 1: 10 000 profiles (the first 200 are coaches), 1 000
 * programs (program p is run by coach p mod 200, 20 sessions each), 5 000
 * enrollments (5 participants per program), 100 000 sessions (20 per
 * enrollment, the first 2 of each already COMPLETED). Every coach's 500
 * sessions sit in distinct hourly slots, so no booking overlaps.
 */
export interface Volume {
  readonly profiles: number;
  readonly coaches: number;
  readonly programs: number;
  readonly enrollmentsPerProgram: number;
  readonly sessionsPerEnrollment: number;
  readonly completedPerEnrollment: number;
}

export function volumeAt(scale: number): Volume {
  const programs = Math.max(10, Math.round(1000 * scale));
  const coaches = Math.max(2, Math.round(200 * scale));
  return {
    profiles: Math.max(coaches + programs * 5, Math.round(10_000 * scale)),
    coaches,
    programs,
    enrollmentsPerProgram: 5,
    sessionsPerEnrollment: 20,
    completedPerEnrollment: 2,
  };
}

export const enrollmentCount = (v: Volume): number => v.programs * v.enrollmentsPerProgram;
export const sessionCount = (v: Volume): number => enrollmentCount(v) * v.sessionsPerEnrollment;

/** Row kinds; the kind is the 4th group of the id so ids of different tables never collide. */
export const KIND = { profile: 0, program: 1, enrollment: 2, session: 3 } as const;
export type Kind = keyof typeof KIND;

const PREFIX = '00000000-0000-4000-800';

/** The id of row `n` of a kind: a valid version-4-shaped UUID. */
export function benchId(kind: Kind, n: number): string {
  return `${PREFIX}${KIND[kind]}-${n.toString(16).padStart(12, '0')}`;
}

/** The same id computed in SQL from an integer expression. */
export function sqlBenchId(kind: Kind, expression: string): string {
  return `('${PREFIX}${KIND[kind]}-' || lpad(to_hex((${expression})::int), 12, '0'))::uuid`;
}

/** Participants are the profiles after the coaches: participant of enrollment e. */
export const participantOf = (v: Volume, enrollment: number): number => v.coaches + enrollment;
export const programOfEnrollment = (v: Volume, enrollment: number): number => Math.floor(enrollment / v.enrollmentsPerProgram);
export const coachOfProgram = (v: Volume, program: number): number => program % v.coaches;
export const enrollmentOfSession = (v: Volume, session: number): number => Math.floor(session / v.sessionsPerEnrollment);
/**
 * The k-th session still SCHEDULED, in the order CompleteSession consumes them:
 * round-robin over enrollments, so concurrent completions rarely touch the same
 * enrollment row (a real workload completes different people's sessions).
 */
export function scheduledSession(v: Volume, k: number): number {
  const enrollments = enrollmentCount(v);
  return (k % enrollments) * v.sessionsPerEnrollment + v.completedPerEnrollment + Math.floor(k / enrollments);
}
export const scheduledSessionCount = (v: Volume): number => enrollmentCount(v) * (v.sessionsPerEnrollment - v.completedPerEnrollment);
