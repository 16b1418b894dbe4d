import { LiteralMatcher } from './LiteralMatcher';

const REDACTED = '[redacted]';

/**
 * Registered values at least this long are scrubbed wherever they occur.
 * Shorter ones are scrubbed only where they stand as a whole token (no
 * letter, digit or underscore right before or after), so a four-letter
 * password is scrubbed from `password=abcd` or `"abcd"` without turning every
 * word that contains those letters into "[redacted]".
 */
export const SCRUB_ANYWHERE_LENGTH = 8;

const WORD = /[\p{L}\p{N}_]/u;
// Characters that end a URL's user name or password (as the old patterns had them).
const USER_END = new Set([':', '/', '"', '@', ' ', '\t', '\n', '\r', '\f', '\v']);
const PASSWORD_END = new Set(['@', '/', '"', ' ', '\t', '\n', '\r', '\f', '\v']);
const DSN_VALUE_END = new Set(['&', '"', "'", ' ', '\t', '\n', '\r', '\f', '\v']);
const DSN_KEY = /\bpassword=/gi;
const SCHEME_CHAR = /[A-Za-z0-9+.-]/;

/** Whether the code point that ends just before `index` (or starts at it) is a word character. */
function wordBefore(text: string, index: number): boolean {
  if (index <= 0) return false;
  const low = text.charCodeAt(index - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && index >= 2 ? index - 2 : index - 1;
  return WORD.test(String.fromCodePoint(text.codePointAt(start)!));
}
function wordAt(text: string, index: number): boolean {
  return index < text.length && WORD.test(String.fromCodePoint(text.codePointAt(index)!));
}

/** Replaces the merged ranges [start, end) of `text` (sorted, disjoint) with the redaction marker. */
function redact(text: string, ranges: readonly (readonly [number, number])[]): string {
  if (ranges.length === 0) return text;
  let out = '';
  let from = 0;
  for (const [start, end] of ranges) {
    out += text.slice(from, start) + REDACTED;
    from = end;
  }
  return out + text.slice(from);
}

/** Adds [start, end) to sorted disjoint ranges whose ends only grow (matches arrive in order of their end). */
function addRange(ranges: [number, number][], start: number, end: number): void {
  let from = start;
  while (ranges.length > 0 && ranges.at(-1)![1] >= from) from = Math.min(from, ranges.pop()![0]);
  ranges.push([from, end]);
}

/** Two lists of ranges, each in order of end, as one list in order of end (linear merge). */
function mergeByEnd(a: readonly [number, number][], b: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]![1] <= b[j]![1]) ? a[i++]! : b[j++]!);
  return out;
}

/** The password of every `scheme://user:password@` in the text: one scan, each stretch read at most twice. */
function urlPasswords(text: string, ranges: [number, number][]): void {
  for (let at = text.indexOf('://'); at !== -1; at = text.indexOf('://', at + 3)) {
    if (at === 0 || !SCHEME_CHAR.test(text[at - 1]!)) continue;
    let i = at + 3;
    while (i < text.length && !USER_END.has(text[i]!)) i++;
    if (text[i] !== ':') continue;
    const start = ++i;
    while (i < text.length && !PASSWORD_END.has(text[i]!)) i++;
    if (text[i] === '@' && i > start) addRange(ranges, start, i);
  }
}

/** The value of every `password=` of a key/value connection string. */
function dsnPasswords(text: string, ranges: [number, number][]): void {
  const key = new RegExp(DSN_KEY);
  for (let match = key.exec(text); match !== null; match = key.exec(text)) {
    const start = match.index + match[0].length;
    let i = start;
    while (i < text.length && !DSN_VALUE_END.has(text[i]!)) i++;
    if (i > start) addRange(ranges, start, i);
    // Search on after the value: a value that holds "password=" again is redacted already, and not read twice.
    key.lastIndex = Math.max(i, start);
  }
}

/**
 * The secret values this process knows (database passwords, current and previous, tokens, webhook URLs),
 * scrubbed from any text with passwords in connection URLs and `password=` settings, in linear time:
 * README "Design decisions", "The secret scrubber runs in linear time".
 */
export class SecretRegistry {
  readonly #values = new Set<string>();
  #matcher: LiteralMatcher | undefined;

  add(value: string | undefined): void {
    if (value === undefined || value === '') return;
    const before = this.#values.size;
    this.#values.add(value);
    // Log lines are scrubbed after JSON serialisation, where `"`, `\` and control characters appear escaped.
    this.#values.add(JSON.stringify(value).slice(1, -1));
    if (this.#values.size !== before) this.#matcher = undefined;
  }

  scrub(text: string): string {
    // Every source yields ranges in order of their end; merged in that order, overlapping ones become one.
    const url: [number, number][] = [];
    const dsn: [number, number][] = [];
    urlPasswords(text, url);
    dsnPasswords(text, dsn);
    const found = mergeByEnd(url, dsn);
    const ranges: [number, number][] = [];
    let next = 0;
    if (this.#values.size > 0) {
      this.#matcher ??= new LiteralMatcher([...this.#values]);
      for (const match of this.#matcher.all(text)) {
        const short = match.end - match.start < SCRUB_ANYWHERE_LENGTH;
        if (short && (wordBefore(text, match.start) || wordAt(text, match.end))) continue;
        for (; next < found.length && found[next]![1] <= match.end; next++) addRange(ranges, found[next]![0], found[next]![1]);
        addRange(ranges, match.start, match.end);
      }
    }
    for (; next < found.length; next++) addRange(ranges, found[next]![0], found[next]![1]);
    return redact(text, ranges);
  }

  /**
   * Scrubs one serialized JSON log line and keeps it valid JSON. A line with
   * no finding is returned as it is (the common case: one linear scan). A
   * line with one is parsed and every string in it (keys too) is scrubbed on
   * its own and the line serialized again: redacting the serialized text
   * could cut an escape (`\n` + a secret starting with "n"), or a
   * `password=` value that ends in an escaped quote, and write a line no log
   * pipeline can read. A line that is not JSON (pretty output) is scrubbed as text.
   */
  scrubJsonLine(line: string): string {
    const scrubbed = this.scrub(line);
    if (scrubbed === line) return line;
    const newline = line.endsWith('\n') ? '\n' : '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return scrubbed;
    }
    return JSON.stringify(this.#scrubStrings(parsed)) + newline;
  }

  #scrubStrings(value: unknown): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (Array.isArray(value)) return value.map((item) => this.#scrubStrings(item));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.scrub(key), this.#scrubStrings(item)]));
    }
    return value;
  }
}
