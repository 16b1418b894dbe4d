import { createHmac, timingSafeEqual } from 'node:crypto';
import { INSTANT_RANGE } from './instants';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MIN_TIME_MS = INSTANT_RANGE.minSeconds * 1000;
const MAX_TIME_MS = INSTANT_RANGE.maxSeconds * 1000 + 999;
/** Longer than any token this codec issues (a UUID, a 16-digit time and a filter of ids and enums). */
const MAX_TOKEN_LENGTH = 1024;

/** Keyset position: the sort key of the last row of the previous page. */
export interface PageCursor {
  readonly time: number;
  readonly id: string;
}

/**
 * Opaque, signed page tokens. The token binds the cursor to the filter it was
 * issued for, so a token cannot be edited or replayed with another filter.
 */
export class PageTokenCodec {
  constructor(private readonly secret: string) {}

  encode(cursor: PageCursor, filter: string): string {
    const body = Buffer.from(JSON.stringify([cursor.time, cursor.id, filter])).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /**
   * The cursor, or undefined when the token is malformed, tampered with or for
   * another filter. A correctly signed token is still checked in full (an
   * integer millisecond time inside the stored range, a UUID id), so nothing
   * odd reaches SQL even if the secret leaked or an old build issued it.
   */
  decode(token: string, filter: string): PageCursor | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const [body, signature, ...rest] = token.split('.');
    if (body === undefined || signature === undefined || rest.length > 0) return undefined;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
      const [time, id, tokenFilter] = parsed as unknown[];
      if (tokenFilter !== filter || !isCursorTime(time) || typeof id !== 'string' || !UUID.test(id)) return undefined;
      return { time, id: id.toLowerCase() };
    } catch {
      return undefined;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, 22);
  }
}

function isCursorTime(time: unknown): time is number {
  return typeof time === 'number' && Number.isSafeInteger(time) && time >= MIN_TIME_MS && time <= MAX_TIME_MS;
}
