import { createHmac, timingSafeEqual } from 'node:crypto';

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

  /** The cursor, or undefined when the token is malformed, tampered with or for another filter. */
  decode(token: string, filter: string): PageCursor | undefined {
    const [body, signature, ...rest] = token.split('.');
    if (body === undefined || signature === undefined || rest.length > 0) return undefined;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
      const [time, id, tokenFilter] = parsed as unknown[];
      if (typeof time !== 'number' || typeof id !== 'string' || tokenFilter !== filter) return undefined;
      return { time, id };
    } catch {
      return undefined;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, 22);
  }
}
