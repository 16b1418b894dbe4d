import { firstLabel } from './driverFailures';

/**
 * The label view of the driver failure table (driverFailures.ts): a stable
 * UPPER_SNAKE code for a database failure, from a small fixed set so that it
 * can label metrics and health events (bounded cardinality) and be branched
 * on by alert rules. Domain errors keep their own reason.
 */
export function databaseFailureCode(error: unknown): string {
  return firstLabel(error) ?? 'OTHER';
}
