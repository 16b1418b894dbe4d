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

/** slonik's type parsers, with timestamptz read by {@link parseTimestamptz} (still as epoch milliseconds). */
export function typeParsers(): readonly TypeParser[] {
  return [...createTypeParserPreset().filter((parser) => parser.name !== 'timestamptz'), { name: 'timestamptz', parse: parseTimestamptz }];
}
