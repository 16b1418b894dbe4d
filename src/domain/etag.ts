/**
 * Etags are derived from the row version. They are opaque to clients; an
 * etag that does not parse can never match, so it is treated as stale.
 */
export function toEtag(version: number): string {
  return `"v${version}"`;
}

export function parseEtag(etag: string): number | undefined {
  const match = /^"v(\d{1,9})"$/.exec(etag);
  return match ? Number(match[1]) : undefined;
}
