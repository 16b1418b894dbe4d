import type { Logger } from 'pino';

/** The exit code of a process that crashed (sysexits EX_SOFTWARE): distinct from 1 (refused to start) and 2 (configuration). */
export const CRASH_EXIT_CODE = 70;

export interface CrashHandlerDeps {
  /** The process logger: it scrubs secrets and bounds every field, so the fatal line is safe to write. */
  readonly logger: Logger;
  /** Best-effort graceful stop (readiness off, in-flight calls finish, pool closed). */
  readonly drain: () => Promise<void>;
  /** How long the drain may take before the process exits anyway. */
  readonly drainTimeoutMs: number;
  /** process.exit, or a stand-in in tests. */
  readonly exit: (code: number) => void;
}

/** A rejection reason as an Error the log serializer understands (reasons may be anything, even throwing on String()). */
function asError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  try {
    return new Error(`non-error rejection: ${String(reason)}`);
  } catch {
    return new Error('non-error rejection (not printable)');
  }
}

/**
 * Process-level handlers for `uncaughtException` and `unhandledRejection`:
 * a future bug becomes one fatal, scrubbed log line and a restart with exit
 * code {@link CRASH_EXIT_CODE}, not a silent death (Node's default prints
 * an unscrubbed stack to stderr) nor a process that limps on in an unknown
 * state. The drain is bounded: the process exits when it finishes or when
 * `drainTimeoutMs` has passed, whichever comes first; a second fault meanwhile
 * is logged and changes nothing. Returns a function that removes the handlers.
 */
export function installCrashHandlers(deps: CrashHandlerDeps): () => void {
  let crashing = false;
  const crash = (origin: 'uncaughtException' | 'unhandledRejection') => (reason: unknown) => {
    const err = asError(reason);
    if (crashing) {
      deps.logger.fatal({ err, origin }, 'another fault while stopping after a crash');
      return;
    }
    crashing = true;
    deps.logger.fatal({ err, origin, drainTimeoutMs: deps.drainTimeoutMs }, `crashed (${origin}): stopping within ${deps.drainTimeoutMs} ms`);
    let exited = false;
    const exit = (how: string): void => {
      if (exited) return;
      exited = true;
      deps.logger.fatal({ drain: how }, `exiting with code ${CRASH_EXIT_CODE} after a crash`);
      // Exit once the log is flushed, or after a second if stdout no longer drains.
      const fallback = setTimeout(() => deps.exit(CRASH_EXIT_CODE), 1000);
      deps.logger.flush(() => {
        clearTimeout(fallback);
        deps.exit(CRASH_EXIT_CODE);
      });
    };
    // Not unref'd: a drain that hangs with nothing else pending must still end in this exit, not in a silent exit 0.
    const timer = setTimeout(() => exit('timed out'), deps.drainTimeoutMs);
    Promise.resolve()
      .then(deps.drain)
      .then(
        () => exit('finished'),
        (error: unknown) => {
          deps.logger.error({ err: asError(error) }, 'drain after a crash failed');
          exit('failed');
        },
      )
      .finally(() => clearTimeout(timer));
  };
  const onException = crash('uncaughtException');
  const onRejection = crash('unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
