import fc from 'fast-check';
import { boundedText, TEXT_LIMITS } from '../src/domain/boundedText';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('boundedText', () => {
  it('keeps short well-formed text as it is', () => {
    expect(boundedText('Europe/Berlin', 64)).toBe('Europe/Berlin');
    expect(boundedText('', 64)).toBe('');
    expect(boundedText('😀'.repeat(16), 64)).toBe('😀'.repeat(16));
  });

  it('replaces lone surrogates, wherever they are, with U+FFFD', () => {
    expect(boundedText('a\ud800b', 64)).toBe('a\ufffdb');
    expect(boundedText('\udfff', 64)).toBe('\ufffd');
    expect(boundedText('x'.repeat(10) + '\ud83d', 64)).toBe('x'.repeat(10) + '\ufffd');
  });

  it('cuts 63 letters and an emoji before the emoji, never inside it', () => {
    const cut = boundedText(`${'A'.repeat(63)}😀`, 64);
    expect(cut).toBe(`${'A'.repeat(61)}…`);
    expect(cut.isWellFormed()).toBe(true);
    expect(() => encodeURI(cut)).not.toThrow();
  });

  it('counts UTF-8 bytes: three-byte and four-byte characters near the cap', () => {
    expect(boundedText('€'.repeat(21), 64)).toBe('€'.repeat(21)); // 63 bytes
    expect(boundedText('€'.repeat(22), 64)).toBe(`${'€'.repeat(20)}…`); // 66 bytes: 60 + ellipsis
    expect(boundedText('😀'.repeat(17), 64)).toBe(`${'😀'.repeat(15)}…`);
  });

  it('looks only at the head of a huge string', () => {
    const huge = '😀'.repeat(2 * 1024 * 1024); // 8 MiB of UTF-8
    const cut = boundedText(huge, TEXT_LIMITS.statusMessage);
    expect(bytes(cut)).toBeLessThanOrEqual(TEXT_LIMITS.statusMessage);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('always returns well-formed text within the cap, a prefix of the (well-formed) input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 4, max: 300 }), (value, cap) => {
        const out = boundedText(value, cap);
        expect(out.isWellFormed()).toBe(true);
        expect(bytes(out)).toBeLessThanOrEqual(cap);
        const whole = value.toWellFormed();
        if (bytes(whole) <= cap) expect(out).toBe(whole);
        else expect(whole.startsWith(out.slice(0, -1)) && out.endsWith('…')).toBe(true);
      }),
      { seed: 20260109, numRuns: 2000 },
    );
  });
});
