/**
 * `npm run bench:rows`: what one ListSessions row costs in the service and in
 * the bare baseline, without gRPC, the pool or the network (issue 15, item 6).
 * Both start from the same text columns PostgreSQL sends. The service's path is
 * the real one from the driver's type parsers on: slonik's parsers (our
 * timestamptz), the result parser with the row schema (`sql.type`),
 * `sessionRepository.list` (its `toRecord`), `sessionToProto` and the response
 * encoding; only the query is answered by a stand-in connection. The bare path
 * is pg's own parsers and the baseline's `toSession`. Each stage is also timed
 * alone. Prints µs per row (medians of rounds); run it on a quiet machine or
 * compare the two paths in the same run. With `--expose-gc
 * --max-semi-space-size=64` (node flags) it also prints the bytes each
 * allocates per row, which does not depend on the load.
 */
import { getHeapStatistics } from 'node:v8';
import { types } from 'pg';
import type { CommonQueryMethods, QuerySqlToken } from 'slonik';
import { createResultParserInterceptor } from '../src/db/resultParserInterceptor';
import { typeParsers } from '../src/db/timestamptzParser';
import { ListSessionsResponse } from '../src/generated/coaching/v1/coaching_service';
import { sessionToProto } from '../src/grpc/sessionMapper';
import { sessionRepository } from '../src/repositories/sessionRepository';
import { toSession, type SessionRow } from './baseline/sessionHandlers';

const ROWS = Number(process.argv[2] ?? 1000);
const ROUNDS = 7;
const TIMESTAMPS = new Set(['scheduled_start', 'completed_time', 'create_time', 'update_time']);
const INTEGERS = new Set(['duration_minutes', 'version']);

type TextRow = Record<string, string | null>;

const uuid = (n: number): string => `0f0e0d0c-0b0a-4908-8706-${String(n).padStart(12, '0')}`;
const two = (n: number): string => String(n).padStart(2, '0');

/** Rows as PostgreSQL's text protocol has them (a coach's SCHEDULED sessions, as the bench seeds them). */
const textRows: TextRow[] = Array.from({ length: ROWS }, (_, i) => ({
  id: uuid(i),
  program_id: uuid(1_000_000 + (i % 7)),
  coach_id: uuid(7),
  participant_id: uuid(2_000_000 + i),
  scheduled_start: `2027-${two(1 + (i % 12))}-${two(1 + (i % 28))} ${two(i % 24)}:00:00+00`,
  duration_minutes: '45',
  status: 'SCHEDULED',
  notes: i % 3 === 0 ? 'first session: goals' : '',
  completed_time: null,
  create_time: `2026-11-${two(1 + (i % 28))} ${two(i % 24)}:${two(i % 60)}:05.${String(100 + (i % 900))}+00`,
  update_time: `2026-11-30 22:${two(i % 60)}:05.${String(100 + (i % 900))}123+00`,
  version: '1',
}));

/** What pg's parseRow does: each non-null column through the parser of its type. */
const parseRows = (timestamptz: (text: string) => unknown): Record<string, unknown>[] =>
  textRows.map((text) => {
    const row: Record<string, unknown> = {};
    for (const column in text) {
      const value = text[column]!;
      row[column] = value === null ? null : TIMESTAMPS.has(column) ? timestamptz(value) : INTEGERS.has(column) ? Number.parseInt(value, 10) : value;
    }
    return row;
  });

const ours = typeParsers().find((parser) => parser.name === 'timestamptz')!.parse;
const pgTimestamptz = types.getTypeParser(1184, 'text') as (text: string) => Date;
const resultParser = createResultParserInterceptor();

/** A connection that answers the list query with `rows`, run through the result parser as slonik does. */
const answering = (rows: () => Record<string, unknown>[]): CommonQueryMethods =>
  ({
    any: (query: QuerySqlToken) =>
      Promise.resolve(rows().map((row) => resultParser.transformRow!({ resultParser: query.parser } as never, query as never, row as never, []))),
  }) as unknown as CommonQueryMethods;

const listAll = (db: CommonQueryMethods) => sessionRepository.list(db, { coachId: uuid(7), status: 'SCHEDULED' }, undefined, ROWS);

const servicePath = async (): Promise<number> => {
  const records = await listAll(answering(() => parseRows(ours)));
  return ListSessionsResponse.encode({ sessions: records.map(sessionToProto), nextPageToken: '' }).finish().length;
};
const barePath = (): Promise<number> => {
  const sessions = (parseRows(pgTimestamptz) as unknown as SessionRow[]).map(toSession);
  return Promise.resolve(ListSessionsResponse.encode({ sessions, nextPageToken: '' }).finish().length);
};

async function microsPerRow(run: () => unknown): Promise<number> {
  const batches = Math.max(20, Math.round(200_000 / ROWS));
  for (let i = 0; i < batches; i++) await run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) await run();
  return Number(process.hrtime.bigint() - start) / 1000 / batches / ROWS;
}

/**
 * Heap bytes one batch allocates, per row: with --expose-gc, and a new space
 * large enough (--max-semi-space-size=64) that no scavenge runs inside the batch.
 */
async function bytesPerRow(run: () => unknown): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  await run();
  gc();
  const before = getHeapStatistics().used_heap_size;
  await run();
  return (getHeapStatistics().used_heap_size - before) / ROWS;
}

async function main(): Promise<void> {
  const parsed = parseRows(ours);
  const validated = answering(() => parsed);
  const records = await listAll(validated);
  const protos = records.map(sessionToProto);
  const stages: Record<string, () => unknown> = {
    service: servicePath,
    bare: barePath,
    'parse: our timestamptz': () => parseRows(ours),
    "parse: pg's timestamptz (bare)": () => parseRows(pgTimestamptz),
    'result parser + toRecord (list)': () => listAll(validated),
    sessionToProto: () => records.map(sessionToProto),
    'encode (both)': () => ListSessionsResponse.encode({ sessions: protos, nextPageToken: '' }).finish(),
  };
  const samples = new Map<string, number[]>(Object.keys(stages).map((name) => [name, []]));
  // Rounds interleave the stages, so load that comes and goes weighs on all of them alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(stages)) samples.get(name)!.push(await microsPerRow(run));
  }
  process.stdout.write(`${ROWS} rows a batch, median of ${ROUNDS} rounds (min–max), µs per row:\n`);
  for (const [name, values] of samples) {
    const sorted = [...values].sort((a, b) => a - b);
    const f = (v: number) => v.toFixed(2);
    const bytes = await bytesPerRow(stages[name]!);
    const allocated = bytes === undefined ? '' : `, ${Math.round(bytes)} bytes allocated per row`;
    process.stdout.write(`  ${name.padEnd(34)} ${f(sorted[Math.floor(sorted.length / 2)]!)} (${f(sorted[0]!)}–${f(sorted.at(-1)!)})${allocated}\n`);
  }
}

void main();
