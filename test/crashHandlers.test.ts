import { join } from 'node:path';
import { CRASH_EXIT_CODE } from '../src/crashHandlers';
import { childEnv, ensureBuilt, jsonLines, runNode } from './support/processes';

const SECRET = 'Crash-Test-Secret-42';
const FIXTURE = join('test', 'fixtures', 'crashingProcess.js');

/** Runs the fixture to its end; the exit must come by itself, well before the test's own bound. */
async function crash(fault: string, drain: 'quick' | 'hang', drainMs = 500) {
  const started = performance.now();
  const result = await runNode(FIXTURE, [fault, drain], childEnv({ CRASH_TEST_SECRET: SECRET, CRASH_TEST_DRAIN_MS: String(drainMs) }), 30_000);
  return { ...result, ms: performance.now() - started, lines: jsonLines(result.stdout) };
}

beforeAll(() => ensureBuilt());

describe('process crash handlers (real child processes)', () => {
  it.each(['throw', 'reject', 'reject-non-error'])('%s: one scrubbed fatal line, the drain runs, exit 70', async (fault) => {
    const result = await crash(fault, 'quick');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: CRASH_EXIT_CODE, signal: null });
    const fatal = result.lines.find((l) => l.level === 'fatal' && String(l.msg).startsWith('crashed'));
    expect(fatal).toMatchObject({ origin: fault === 'throw' ? 'uncaughtException' : 'unhandledRejection' });
    expect(JSON.stringify(fatal)).toContain('boom with the password [redacted]');
    expect(result.lines.some((l) => l.msg === 'drained')).toBe(true);
    expect(result.lines.at(-1)).toMatchObject({ level: 'fatal', drain: 'finished' });
    // Scrubbed everywhere, and nothing unscrubbed on stderr (Node's default handler would print the stack there).
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stderr).not.toContain('boom');
    // The lone surrogate became U+FFFD: every line is valid JSON of well-formed text.
    for (const line of result.stdout.trim().split('\n')) expect(line.isWellFormed()).toBe(true);
  });

  it('exits within the bound when the drain hangs', async () => {
    const result = await crash('throw', 'hang', 1_000);
    expect(result.code).toBe(CRASH_EXIT_CODE);
    expect(result.lines.at(-1)).toMatchObject({ level: 'fatal', drain: 'timed out' });
    expect(result.ms).toBeGreaterThanOrEqual(1_000);
  });

  it('logs a second fault during the drain and still exits once, with 70', async () => {
    const result = await crash('throw-twice', 'hang', 1_000);
    expect(result.code).toBe(CRASH_EXIT_CODE);
    expect(result.lines.filter((l) => String(l.msg).startsWith('crashed'))).toHaveLength(1);
    expect(result.lines.some((l) => l.msg === 'another fault while stopping after a crash')).toBe(true);
    expect(result.lines.filter((l) => String(l.msg).startsWith('exiting with code'))).toHaveLength(1);
  });
});
