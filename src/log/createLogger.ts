import pino, { type Logger } from 'pino';
import type { SecretRegistry } from './SecretRegistry';

export interface LoggerOptions {
  readonly level: string;
  readonly secrets: SecretRegistry;
  /** Where lines go; stdout by default (tests pass a capture stream). */
  readonly destination?: pino.DestinationStream;
}

/**
 * One JSON logger for the whole process. Redaction happens in the logger
 * itself: known secret keys are censored, and every finished line is scrubbed
 * of registered secret values and of passwords inside connection URLs, so a
 * secret cannot leak through an error message either.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'coaching-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', '*.password', 'db.password', 'config.db.password', 'connectionString', '*.connectionString'],
        censor: '[redacted]',
      },
      hooks: { streamWrite: (line) => options.secrets.scrub(line) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
