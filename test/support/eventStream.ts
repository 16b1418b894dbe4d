import Redis from 'ioredis';

/** A stream entry as a consumer reads it. */
export interface StreamEntry {
  readonly entryId: string;
  readonly fields: Record<string, string>;
}

export function toEntries(raw: [string, string[]][]): StreamEntry[] {
  return raw.map(([entryId, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { entryId, fields };
  });
}

/** A plain client for a test's own reads of the stream (not the service's). */
export function testRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Every entry of the stream, in order. */
export async function streamEntries(redis: Redis, stream: string): Promise<StreamEntry[]> {
  return toEntries(await redis.xrange(stream, '-', '+'));
}

/** Chaos-table counts of a stream against the outbox: outbox events missing from the stream, and event ids on it more than once. */
export function lostAndDuplicated(entries: readonly StreamEntry[], outboxIds: readonly string[]): { lost: number; duplicated: number } {
  const seen = new Map<string, number>();
  for (const e of entries) if (e.fields.replaygroup === undefined) seen.set(e.fields.id!, (seen.get(e.fields.id!) ?? 0) + 1);
  return {
    lost: outboxIds.filter((id) => !seen.has(id)).length,
    duplicated: [...seen.values()].reduce((sum, n) => sum + n - 1, 0),
  };
}

/** Failures of "every event once, in order": duplicate ids, sequences out of order, entry ids not derived from the sequence. */
export function streamProblems(entries: readonly StreamEntry[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  let last = 0n;
  for (const e of entries) {
    if (e.fields.replaygroup !== undefined) continue;
    if (ids.has(e.fields.id!)) problems.push(`duplicate event id ${e.fields.id}`);
    ids.add(e.fields.id!);
    const sequence = BigInt(e.fields.sequence!);
    if (sequence <= last) problems.push(`sequence ${sequence} after ${last}`);
    if (e.entryId !== `${sequence}-0`) problems.push(`entry ${e.entryId} carries sequence ${sequence}`);
    last = sequence;
  }
  return problems;
}
