/**
 * parseTimestamptz (src/db/timestamptzParser.ts) reads the common form
 * (four-digit year from 0100, whole-hour offset) without a regular
 * expression; every other form goes through the general parser. Both must
 * agree with PostgreSQL's own epoch for whatever text it prints, in any
 * session time zone.
 */
import { Client } from 'pg';
import { parseTimestamptz } from '../src/db/timestamptzParser';
import { adminUrl } from './support/testDatabase';

let client: Client;
beforeAll(async () => {
  client = new Client({ connectionString: adminUrl() });
  await client.connect();
});
afterAll(async () => {
  await client.end();
});

/** Random instants from 4713 BC to 9999 AD, with 0-6 fraction digits, and PostgreSQL's epoch in ms (rounded down, as the text is). */
const SAMPLE = `
  with t as (
    select timestamptz '4713-01-01 00:00:00+00 BC' + random() * (timestamptz '9999-12-31 00:00:00+00' - timestamptz '4713-01-01 00:00:00+00 BC') as t
    from generate_series(1, 1500)
    union all
    select date_trunc('second', timestamptz '2000-01-01 00:00:00+00' + random() * interval '20000 days') from generate_series(1, 300)
    union all
    select date_trunc('milliseconds', timestamptz '0001-01-01 00:00:00+00' + random() * interval '80000 days') from generate_series(1, 300)
  )
  select t::text as text, floor(extract(epoch from t) * 1000)::bigint::text as epoch_ms from t`;

it.each(['UTC', 'America/New_York', 'Asia/Kolkata', 'Europe/Amsterdam', 'America/St_Johns', 'Pacific/Chatham'])(
  'agrees with PostgreSQL on random instants printed in %s, fast path or not',
  async (zone) => {
    await client.query(`set timezone = '${zone}'`);
    const { rows } = await client.query<{ text: string; epoch_ms: string }>(SAMPLE);
    expect(rows.length).toBe(2100);
    const wrong = rows.filter((row) => parseTimestamptz(row.text) !== Number(row.epoch_ms));
    expect(wrong).toEqual([]);
  },
);

it('leaves what it cannot read to the general parser, which reads or refuses it', () => {
  // Two-digit-year range, five-digit year, BC, offsets with minutes and seconds: not the fast path, still exact.
  expect(new Date(parseTimestamptz('0099-12-31 23:59:59.999+00')).toISOString()).toBe('0099-12-31T23:59:59.999Z');
  expect(new Date(parseTimestamptz('10000-01-01 00:00:00+00')).getUTCFullYear()).toBe(10000);
  expect(new Date(parseTimestamptz('0100-01-01 00:00:00+00 BC')).getUTCFullYear()).toBe(-99);
  expect(new Date(parseTimestamptz('2024-05-01 12:00:00-05:30')).toISOString()).toBe('2024-05-01T17:30:00.000Z');
  for (const text of [
    '2024-05-01 12:00:00.1234567+00',
    '2024-05-01 12:00:00.+00',
    '2024-05-01 12:00:00+0',
    '2024-05-01 12:00:00+00 ',
    '2024-05-01T12:00:00+00',
  ]) {
    expect(() => parseTimestamptz(text)).toThrow(/DateStyle/);
  }
});
