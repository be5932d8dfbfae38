/**
 * Keyset pagination shared by every list route: opaque base64url cursors (JSON inside) and the
 * "fetch limit + 1 rows, return limit" page split. Clients treat cursors as opaque; one that does
 * not decode to what its route expects is a 400 naming `/cursor`.
 */
import { validationError } from './errors';

/** base64url (no padding) of the JSON of `value`: safe in a query string without escaping. */
export function encodeCursor(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes a cursor made by `encodeCursor`, accepting only values `accept` recognises. */
export function decodeCursor<T>(cursor: string, accept: (value: unknown) => T | undefined): T {
  let decoded: T | undefined;
  try {
    const b64 = cursor.replace(/-/g, '+').replace(/_/g, '/');
    decoded = accept(JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))) as unknown);
  } catch {
    decoded = undefined;
  }
  if (decoded === undefined) {
    throw validationError([{ path: '/cursor', message: 'not a cursor returned by this API' }]);
  }
  return decoded;
}

/**
 * Splits rows fetched with `LIMIT limit + 1` into one page and the cursor of the next (null on
 * the last page). `cursorOf` encodes the keyset of the page's last row.
 */
export function keysetPage<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => string,
): { page: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, next_cursor: rows.length > limit && last ? cursorOf(last) : null };
}
