import { createTypeParserPreset } from 'slonik';

type TypeParser = ReturnType<typeof createTypeParserPreset>[number];

/**
 * PostgreSQL's ISO output of a timestamptz: `2024-05-01 12:00:00.123+00`,
 * with years of four or more digits, an offset of hours and optional minutes
 * and seconds (local mean time before 1900 in zones other than UTC), and
 * ` BC` for years before 1 AD.
 */
const ISO_TIMESTAMPTZ = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/;

/**
 * Epoch milliseconds of a timestamptz in PostgreSQL's ISO text form, exact
 * for every year PostgreSQL can hold. slonik's default parser hands the text
 * to `Date.parse`, whose legacy (non-ISO) format reads years 0001-0099 as
 * 1901-1999 and 2000-2049 and cannot read ` BC` or offsets with seconds;
 * `Date.UTC` has the same two-digit-year rule, so the year is set on its own.
 */
export function parseTimestamptz(text: string): number {
  const fast = commonTimestamptz(text);
  if (fast !== undefined) return fast;
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (text === '-infinity') return Number.NEGATIVE_INFINITY;
  const m = ISO_TIMESTAMPTZ.exec(text);
  if (m === null) throw new Error(`unexpected timestamptz text from PostgreSQL (is DateStyle ISO?): ${text.slice(0, 40)}`);
  const [, year, month, day, hours, minutes, seconds, fraction, sign, offsetHours, offsetMinutes, offsetSeconds, bc] = m;
  const date = new Date(0);
  // Astronomical year numbering: 1 BC is year 0.
  date.setUTCFullYear(bc === undefined ? Number(year) : 1 - Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hours), Number(minutes), Number(seconds), Number((fraction ?? '').padEnd(3, '0').slice(0, 3)));
  const offsetMs = (Number(offsetHours) * 3600 + Number(offsetMinutes ?? 0) * 60 + Number(offsetSeconds ?? 0)) * 1000;
  return date.getTime() - (sign === '+' ? offsetMs : -offsetMs);
}

/** What the first, second and third digit of a fraction of a second are worth in milliseconds. */
const FRACTION_MS = [100, 10, 1] as const;

/** The digit at `index` of `text` (0-9), or -1 when there is none. */
function digitAt(text: string, index: number): number {
  const d = text.charCodeAt(index) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/** `count` digits from `index` as a number, or -1 when any is not a digit. */
function digitsAt(text: string, index: number, count: number): number {
  let value = 0;
  for (let i = index; i < index + count; i++) {
    const d = digitAt(text, i);
    if (d < 0) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * The form nearly every row has, read without a regular expression or a Date
 * (three per session row, so this was 5 % of ListSessions' CPU): a four-digit
 * year from 0100 (Date.UTC's two-digit-year rule cannot apply), an optional
 * fraction of 1-6 digits and a whole-hour offset, nothing after it.
 * Undefined for anything else, which the general parser reads (or refuses).
 */
function commonTimestamptz(text: string): number | undefined {
  if (text.length < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32) return undefined;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hours = digitsAt(text, 11, 2);
  const minutes = digitsAt(text, 14, 2);
  const seconds = digitsAt(text, 17, 2);
  if (year < 100 || month < 0 || day < 0 || hours < 0 || minutes < 0 || seconds < 0) return undefined;
  let at = 19;
  let millis = 0;
  if (text.charCodeAt(at) === 46) {
    // Milliseconds are the first three digits of the fraction (truncated, as the general parser does).
    let count = 0;
    for (let d = digitAt(text, ++at); d >= 0; d = digitAt(text, ++at), count++) if (count < 3) millis += d * FRACTION_MS[count]!;
    if (count < 1 || count > 6) return undefined;
  }
  const sign = text.charCodeAt(at);
  if ((sign !== 43 && sign !== 45) || text.length !== at + 3) return undefined;
  const offsetHours = digitsAt(text, at + 1, 2);
  if (offsetHours < 0) return undefined;
  const offsetMs = offsetHours * 3_600_000;
  return Date.UTC(year, month - 1, day, hours, minutes, seconds, millis) - (sign === 43 ? offsetMs : -offsetMs);
}

/** slonik's type parsers, with timestamptz read by {@link parseTimestamptz} (still as epoch milliseconds). */
export function typeParsers(): readonly TypeParser[] {
  return [...createTypeParserPreset().filter((parser) => parser.name !== 'timestamptz'), { name: 'timestamptz', parse: parseTimestamptz }];
}
