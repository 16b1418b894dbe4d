import { ValidationError } from '../domain/errors';
import type { PageCursor, PageTokenCodec } from '../domain/PageTokenCodec';

/** One page of a List call. */
export interface Page<T> {
  readonly items: T[];
  /** Empty when this is the last page. */
  readonly nextPageToken: string;
}

/** What a List call asks for: the filter binds its page tokens. */
export interface PageQuery {
  readonly filter: Readonly<Record<string, string | number | undefined>>;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** The filter as the text a page token is bound to, e.g. "role=COACH" or "coach_id=&status=". */
export function filterKey(filter: PageQuery['filter']): string {
  return Object.entries(filter)
    .map(([name, value]) => `${name}=${value ?? ''}`)
    .join('&');
}

/**
 * Keyset paging shared by every List call: decodes the token (refusing one
 * issued for another filter), reads pageSize+1 rows after the cursor, and
 * issues the next token from the last row returned.
 */
export async function readPage<T>(
  pageTokens: PageTokenCodec,
  query: PageQuery,
  cursorOf: (item: T) => PageCursor,
  read: (after: PageCursor | undefined, limit: number) => Promise<T[]>,
): Promise<Page<T>> {
  const filter = filterKey(query.filter);
  const after = query.pageToken === '' ? undefined : pageTokens.decode(query.pageToken, filter);
  if (query.pageToken !== '' && after === undefined) {
    throw new ValidationError([{ field: 'page_token', description: 'is not a token this service issued for this filter' }]);
  }
  const rows = await read(after, query.pageSize + 1);
  const items = rows.slice(0, query.pageSize);
  const last = items.at(-1);
  const nextPageToken = rows.length > query.pageSize && last !== undefined ? pageTokens.encode(cursorOf(last), filter) : '';
  return { items, nextPageToken };
}
