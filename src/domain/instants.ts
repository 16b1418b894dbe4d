import type { FieldViolation } from './errors';

/**
 * The instants the service accepts and stores: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999Z, the range of RFC 3339 and of
 * google.protobuf.Timestamp, at the database's millisecond precision
 * (timestamptz(3)). Everything in it round-trips through PostgreSQL and
 * JavaScript exactly; outside it, PostgreSQL's BC and five-digit years and
 * JavaScript's legacy date parsing disagree.
 */
export const INSTANT_RANGE = {
  /** 0001-01-01T00:00:00Z in epoch seconds. */
  minSeconds: -62_135_596_800,
  /** 9999-12-31T23:59:59Z in epoch seconds. */
  maxSeconds: 253_402_300_799,
  minText: '0001-01-01T00:00:00Z',
  maxText: '9999-12-31T23:59:59.999999999Z',
} as const;

const MAX_NANOS = 999_999_999;

/** A google.protobuf.Timestamp as decoded (int64 seconds as a decimal string). */
export interface WireInstant {
  readonly seconds: string;
  readonly nanos: number;
}

/**
 * The Date of a wire timestamp, or the violation that refuses it. Checked on
 * the two wire fields before any conversion: `nanos` outside 0..999 999 999
 * is refused (never folded into the seconds), and so is anything outside
 * {@link INSTANT_RANGE}. Sub-millisecond digits are dropped (truncated), as
 * the database stores milliseconds.
 */
export function instantFromWire(field: string, value: WireInstant): { date: Date; violation?: undefined } | { date?: undefined; violation: FieldViolation } {
  if (!Number.isInteger(value.nanos) || value.nanos < 0 || value.nanos > MAX_NANOS) {
    return { violation: { field: `${field}.nanos`, description: `must be 0 to ${MAX_NANOS}, got ${value.nanos}` } };
  }
  // int64 text; Number is exact inside the range, and anything it rounds is far outside it.
  const seconds = /^-?\d{1,19}$/.test(value.seconds) ? Number(value.seconds) : Number.NaN;
  if (!(seconds >= INSTANT_RANGE.minSeconds && seconds <= INSTANT_RANGE.maxSeconds)) {
    return { violation: { field, description: `must be from ${INSTANT_RANGE.minText} to ${INSTANT_RANGE.maxText}` } };
  }
  return { date: new Date(seconds * 1000 + Math.floor(value.nanos / 1_000_000)) };
}

/** The wire form of a stored instant: whole seconds rounded down, nanos always 0..999 999 999 (also before 1970). */
export function instantToWire(date: Date): WireInstant {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}
