import fc from 'fast-check';
import { createLogger } from '../src/log/createLogger';
import { SecretRegistry } from '../src/log/SecretRegistry';
import { LogCapture } from './support/testService';

/**
 * The scrubber runs on finished JSON lines, where a secret may sit next to,
 * inside, or across JSON escapes. Whatever it redacts, every line must stay
 * valid JSON, and no string in it may still hold the secret.
 */
function logWith(...secrets: string[]) {
  const registry = new SecretRegistry();
  for (const s of secrets) registry.add(s);
  const logs = new LogCapture();
  return { logger: createLogger({ level: 'info', secrets: registry, destination: logs.stream }), logs };
}

/** Every string (keys too) of a parsed line. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

function expectCleanJson(logs: LogCapture, secrets: string[]): void {
  expect(logs.lines.length).toBeGreaterThan(0);
  for (const line of logs.lines) {
    let parsed: unknown;
    expect(() => (parsed = JSON.parse(line))).not.toThrow();
    for (const s of strings(parsed)) for (const secret of secrets) expect(s).not.toContain(secret);
  }
}

describe('scrubbed log lines', () => {
  it.each([
    ['spelled by an escape and the text after it', 'n1234567secret', 'first line\n1234567secret; again n1234567secret'],
    ['spelled by a unicode escape', 'u0001secret-1', 'ctl \u0001secret-1; again u0001secret-1'],
    ['holding a quote', 'pa"ss-word-1', 'login with pa"ss-word-1 failed'],
    ['holding a backslash', 'C:\\secret\\path', 'opening C:\\secret\\path now'],
    ['ending with a backslash', 'trailing-slash\\', 'value trailing-slash\\"quoted"'],
    ['in non-Latin script and emoji', 'ключ-секрет-😀', 'the key ключ-секрет-😀 leaked'],
    ['a short one right after an escape', 'ab"c', 'x="ab"c"'],
    ['next to control characters', 'tab\tsecret1', 'a\u0001tab\tsecret1\u0002b'],
  ])('stay valid JSON with the secret %s', (_name, secret, message) => {
    const { logger, logs } = logWith(secret);
    logger.info(message);
    logger.info({ detail: message, nested: { list: [message, 'plain'] } }, 'with fields');
    logger.error({ err: new Error(message) }, 'failed');
    logger.flush();
    expectCleanJson(logs, [secret]);
    // Something was redacted, and the rest of the text is still there.
    expect(logs.text()).toContain('[redacted]');
  });

  it('stay valid JSON when a password= value holds an escaped quote', () => {
    const { logger, logs } = logWith();
    logger.info('connect with host=db password=abc"def user=app');
    logger.flush();
    expectCleanJson(logs, ['abc"def', 'abc']);
  });

  it('stay valid JSON for arbitrary secrets and messages made of escapes, quotes and unicode', () => {
    const unit = fc.constantFrom('a', 'n', 'u', '0', '"', '\\', '\n', '\t', '\u0001', 'é', '😀', '\u2028', '/', ' ');
    fc.assert(
      fc.property(fc.string({ unit, minLength: 8, maxLength: 14 }), fc.array(fc.string({ unit, maxLength: 6 }), { maxLength: 4 }), (secret, parts) => {
        const { logger, logs } = logWith(secret);
        logger.info({ field: parts.join(secret) }, parts.join(secret));
        logger.flush();
        expectCleanJson(logs, [secret]);
      }),
      { seed: 9, numRuns: 300 },
    );
  });
});
