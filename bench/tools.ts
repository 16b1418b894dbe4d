import { execFileSync } from 'node:child_process';

/** A program the bench can use if it is installed (pgbench, h2load): `command` when `command --version` works, else undefined. */
export function findTool(command: string): string | undefined {
  return toolVersion(command) === undefined ? undefined : command;
}

/** The first line `binary --version` prints, or undefined when it cannot be run. */
export function toolVersion(binary: string): string | undefined {
  try {
    return (
      execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n')[0] || undefined
    );
  } catch {
    return undefined;
  }
}
