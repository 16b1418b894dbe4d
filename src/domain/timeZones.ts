import { IANA_TIME_ZONE_NAMES } from './ianaTimeZoneNames';

/**
 * The time zone names the service accepts: every name of the IANA database
 * (zones and links), in its exact spelling. Neither ICU list fits:
 * Intl.supportedValuesOf('timeZone') holds only CLDR's old canonical names
 * (no Asia/Kolkata, Europe/Kyiv, UTC, Etc/GMT+5, US/Eastern), and
 * Intl.DateTimeFormat accepts every spelling case-insensitively and also
 * offsets such as "+05:00", which are not names and which PostgreSQL reads
 * with the opposite sign (POSIX). The list is generated from tzdata
 * (scripts/time-zone-names.mjs); a test checks that ICU and PostgreSQL know
 * every name in it.
 */
let names: ReadonlySet<string> | undefined;
let byLowerCase: ReadonlyMap<string, string> | undefined;

function all(): ReadonlySet<string> {
  names ??= new Set(IANA_TIME_ZONE_NAMES.split(/\s+/).filter((name) => name !== ''));
  return names;
}

/** True for an IANA time zone name, spelt exactly as the database spells it. */
export function isTimeZoneName(value: string): boolean {
  // The longest name has 32 characters: anything much longer is refused unread.
  return value.length <= 64 && all().has(value);
}

/** The IANA name `value` differs from only in case (e.g. "europe/kyiv"), if any. */
export function timeZoneSuggestion(value: string): string | undefined {
  if (value.length > 64) return undefined;
  byLowerCase ??= new Map([...all()].map((name) => [name.toLowerCase(), name]));
  return byLowerCase.get(value.toLowerCase());
}

/** Every accepted name (for tests and documentation). */
export function timeZoneNames(): readonly string[] {
  return [...all()];
}
