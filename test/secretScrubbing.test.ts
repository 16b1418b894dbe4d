import fc from 'fast-check';
import { LiteralMatcher } from '../src/log/LiteralMatcher';
import { SecretRegistry } from '../src/log/SecretRegistry';

const MIB = 1024 * 1024;

function registry(...values: string[]): SecretRegistry {
  const secrets = new SecretRegistry();
  for (const value of values) secrets.add(value);
  return secrets;
}

/** Milliseconds one scrub of `text` takes. */
function timed(secrets: SecretRegistry, text: string): { ms: number; out: string } {
  const started = performance.now();
  const out = secrets.scrub(text);
  return { ms: performance.now() - started, out };
}

describe('LiteralMatcher', () => {
  it('finds every occurrence of every pattern, overlapping ones included', () => {
    const matcher = new LiteralMatcher(['he', 'she', 'his', 'hers']);
    const found = [...matcher.matches('ushers')].map((m) => `${m.start}-${m.end}:${matcher.patterns[m.pattern]}`);
    expect(found.sort()).toEqual(['1-4:she', '2-4:he', '2-6:hers']);
  });

  it('agrees with a naive search on arbitrary text and patterns', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom('a', 'b', 'c') }), { minLength: 1, maxLength: 5 }),
        fc.string({ maxLength: 60, unit: fc.constantFrom('a', 'b', 'c', 'd') }),
        (patterns, text) => {
          const matcher = new LiteralMatcher(patterns);
          const got = [...matcher.matches(text)].map((m) => `${m.start}:${patterns[m.pattern]}`).sort();
          const expected: string[] = [];
          for (const pattern of patterns) for (let i = text.indexOf(pattern); i !== -1; i = text.indexOf(pattern, i + 1)) expected.push(`${i}:${pattern}`);
          expect(got).toEqual(expected.sort());
        },
      ),
      { seed: 7, numRuns: 500 },
    );
  });
});

describe('LiteralMatcher, each way of scanning', () => {
  // Few distinct first code units: jumps between candidates with indexOf; many: steps the table over every
  // code unit; a table over the size limit: the goto maps and failure links.
  const scans: Record<string, (patterns: string[]) => LiteralMatcher> = {
    table: (patterns) => new LiteralMatcher(patterns),
    maps: (patterns) => new LiteralMatcher(patterns, { maxTableEntries: 0 }),
  };

  it.each(Object.keys(scans))('agrees with a naive search with up to eight first code units (%s)', (scan) => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h') }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.string({ maxLength: 80, unit: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x') }),
        (patterns, text) => {
          const matcher = scans[scan]!(patterns);
          const got = matcher.all(text).map((m) => `${m.start}:${patterns[m.pattern]}`);
          const expected: string[] = [];
          for (const pattern of patterns) for (let i = text.indexOf(pattern); i !== -1; i = text.indexOf(pattern, i + 1)) expected.push(`${i}:${pattern}`);
          expect([...got].sort()).toEqual(expected.sort());
          // In order of their end.
          const ends = matcher.all(text).map((m) => m.end);
          expect(ends).toEqual([...ends].sort((x, y) => x - y));
        },
      ),
      { seed: 13, numRuns: 500 },
    );
  });
});

describe('SecretRegistry', () => {
  it('scrubs registered values, URL passwords and password= settings', () => {
    const secrets = registry('Sup3r-Secret-Pa55');
    expect(secrets.scrub('a Sup3r-Secret-Pa55 b')).toBe('a [redacted] b');
    expect(secrets.scrub('xSup3r-Secret-Pa55x')).toBe('x[redacted]x');
    expect(secrets.scrub('postgresql://app:hunter22@db:5432/x')).toBe('postgresql://app:[redacted]@db:5432/x');
    expect(secrets.scrub('host=db password=s3cr3t user=app')).toBe('host=db password=[redacted] user=app');
    expect(secrets.scrub('https://example.com/path?q=1')).toBe('https://example.com/path?q=1');
  });

  it('scrubs short secrets where they stand as a whole token, not inside other words', () => {
    const secrets = registry('abc', 'x9');
    expect(secrets.scrub('password is abc.')).toBe('password is [redacted].');
    expect(secrets.scrub('{"password":"abc"}')).toBe('{"password":"[redacted]"}');
    expect(secrets.scrub('abc')).toBe('[redacted]');
    expect(secrets.scrub('abcdef and xabc and abc_1')).toBe('abcdef and xabc and abc_1');
    expect(secrets.scrub('(x9)')).toBe('([redacted])');
    expect(secrets.scrub('éabc abcé')).toBe('éabc abcé');
  });

  it('merges overlapping findings into one redaction', () => {
    const secrets = registry('Sup3r-Secret-Pa55', 'Secret-Pa55-and-more');
    expect(secrets.scrub('<Sup3r-Secret-Pa55-and-more>')).toBe('<[redacted]>');
    expect(secrets.scrub('postgresql://u:Sup3r-Secret-Pa55@h/db')).toBe('postgresql://u:[redacted]@h/db');
  });

  it('never leaves a registered value (of any length) standing as a token', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.array(fc.constantFrom(' ', '"', '=', ':', '/', ','), { minLength: 1, maxLength: 4 }),
        (secret, separators) => {
          const secrets = registry(secret);
          const text = separators.join(secret);
          const out = secrets.scrub(`${separators.join(secret)}`);
          if (text.includes(secret)) expect(out.split(/[ "=:/,]/).includes(secret)).toBe(false);
        },
      ),
      { seed: 11, numRuns: 500 },
    );
  });

  /*
   * Linear time: 1 MiB of each kind of text that makes backtracking patterns
   * or naive multi-pattern searches slow must scrub well inside a bound that
   * no loaded machine misses (the old scrubber took tens of seconds on 300 KB
   * of the first kind; the new one takes milliseconds).
   */
  const worstCases: Record<string, string> = {
    'dotted words (a word boundary at every other character)': 'a.'.repeat(MIB / 2),
    'scheme separators without a user': 'a://'.repeat(MIB / 4),
    'URLs with a user and a colon but no @': 'a://u:'.repeat(MIB / 6),
    'password= without a value end': 'password='.repeat(MIB / 9),
    'near misses of a long registered secret': 'aaaaaaaaaaaaaaaaaaab'.slice(0, -1).repeat(MIB / 19),
    'near misses of a short secret inside words': 'aaaabaaaab'.repeat(MIB / 10),
    'one long run of word characters': 'a'.repeat(MIB),
  };

  it.each(Object.entries(worstCases))('scrubs 1 MiB of %s in linear time', (_name, text) => {
    const secrets = registry('aaaaaaaaaaaaaaaaaaab', 'aaab', 'Sup3r-Secret-Pa55');
    const { ms, out } = timed(secrets, text);
    expect(out.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(5_000);
  });

  it('scrubs every secret in 1 MiB that is full of them', () => {
    const secrets = registry('Sup3r-Secret-Pa55', 'abcd');
    const text = 'x Sup3r-Secret-Pa55 abcd postgresql://u:p@h/ password=q '.repeat(MIB / 56);
    const { ms, out } = timed(secrets, text);
    expect(ms).toBeLessThan(5_000);
    for (const leak of ['Sup3r-Secret-Pa55', ' abcd ', ':p@', '=q ']) expect(out).not.toContain(leak);
  });
});
