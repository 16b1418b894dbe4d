import { createHash } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { AlreadyExistsError } from '../domain/errors';
import { parseEtag, toEtag } from '../domain/etag';
import { idempotencyRepository } from '../repositories/idempotencyRepository';
import type { Change, ChangeLog } from './changeLog';

/** How a result is kept in the idempotency record and read back. */
export interface ResultCodec<T> {
  toJson(value: T): unknown;
  fromJson(json: unknown): T;
}

/**
 * A codec for plain records whose Date fields (named in `dates`) travel as
 * ISO strings in the stored JSON; an undefined date stays undefined.
 */
export function recordCodec<T extends object>(dates: readonly (keyof T & string)[]): ResultCodec<T> {
  const map = (value: object, convert: (v: unknown) => unknown): T =>
    Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dates.includes(k as keyof T & string) && v != null ? convert(v) : v])) as T;
  return {
    toJson: (value) => map(value, (v) => (v as Date).toISOString()),
    fromJson: (json) => map(json as object, (v) => new Date(v as string)),
  };
}

/**
 * A stable fingerprint of a request's content, compared when a request_id
 * comes back. Take it of the request in canonical form (what the handlers
 * normalised: lower-case ids, trimmed names; `canonical` below for the
 * rest), so that two requests that mean the same have the same fingerprint.
 * The fingerprint is the JSON of the value in its key order, and stored ones
 * outlive a deployment: keep the shape of each operation's value.
 */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Canonical forms of request fields that can be written more than one way. */
export const canonical = {
  /** UUIDs compare case-insensitively (as PostgreSQL's uuid does): lower case. */
  id: (id: string): string => id.toLowerCase(),
  /** An etag as the service writes it (`"v01"` means `"v1"`); one that does not parse stays as sent. */
  etag: (etag: string): string => {
    const version = parseEtag(etag);
    return version === undefined ? etag : toEtag(version);
  },
};

/** What a write made, and the changes it records (ChangeLog). */
export interface Recorded<T> {
  readonly result: T;
  readonly changes: readonly Change[];
}

/**
 * Runs `write` at most once per request_id (inside the caller's transaction)
 * and returns the original result to every retry. Reusing a request_id for a
 * different operation or payload is refused. The write's changes are
 * appended to `changes` as its last step, in one statement with the stored
 * response; a replay appends nothing.
 */
export async function idempotent<T>(
  tx: CommonQueryMethods,
  key: { requestId: string | undefined; operation: string; hash: string },
  codec: ResultCodec<T>,
  changes: ChangeLog,
  write: () => Promise<Recorded<T>>,
): Promise<T> {
  if (key.requestId === undefined) {
    const written = await write();
    await changes.append(tx, written.changes);
    return written.result;
  }
  const existing = await idempotencyRepository.claim(tx, key.requestId, key.operation, key.hash);
  if (existing !== undefined) {
    if (existing.operation !== key.operation || existing.requestHash !== key.hash) {
      throw new AlreadyExistsError('REQUEST_ID_REUSED', `request_id ${key.requestId} was already used for a different request`);
    }
    return codec.fromJson(existing.response);
  }
  const written = await write();
  await changes.append(tx, written.changes, idempotencyRepository.completion(key.requestId, codec.toJson(written.result)));
  return written.result;
}
