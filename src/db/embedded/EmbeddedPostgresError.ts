/** Why the embedded server could not be set up or started; the message says what to do. */
export type EmbeddedPostgresFailure = 'DATA_DIR_UNREACHABLE' | 'PORT_IN_USE' | 'ALREADY_RUNNING' | 'START_FAILED' | 'INIT_FAILED';

export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
  constructor(
    readonly kind: EmbeddedPostgresFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The lines of PostgreSQL's output that explain a failure, joined. */
function explanation(lines: readonly string[]): string {
  const telling = lines.filter((l) => /FATAL|ERROR|HINT|could not|invalid|denied|already/i.test(l));
  return (telling.length > 0 ? telling : lines.slice(-5)).join('\n').trim();
}

/**
 * The error for a server that did not come up, classified from what it wrote
 * (a taken port, a data folder another server already runs on), with
 * PostgreSQL's own explanation attached.
 */
export function startFailure(failure: { log: readonly string[]; why: string; dataDir: string; port: number; cause?: unknown }): EmbeddedPostgresError {
  const said = explanation(failure.log);
  const kind: EmbeddedPostgresFailure = /Address already in use/.test(said)
    ? 'PORT_IN_USE'
    : /lock file .* already exists/.test(said)
      ? 'ALREADY_RUNNING'
      : 'START_FAILED';
  const advice =
    kind === 'PORT_IN_USE'
      ? `port ${failure.port} is already in use: choose another port or stop what listens there`
      : kind === 'ALREADY_RUNNING'
        ? `another PostgreSQL already runs on the data folder ${failure.dataDir}: stop it first`
        : `it ${failure.why}`;
  const message = `embedded PostgreSQL did not start (data folder ${failure.dataDir}, port ${failure.port}): ${advice}${said ? `\n${said}` : ''}`;
  return new EmbeddedPostgresError(kind, message, { cause: failure.cause });
}
