/**
 * Opaque keyset cursors: base64url of `[ts, id]`, the last row of a page in the list order.
 * Clients treat them as opaque; a cursor that does not decode is a 400 naming `cursor`.
 */
import { validationError } from '../errors';
import type { Keyset } from './store';

export function encodeCursor(k: Keyset): string {
  return btoa(JSON.stringify([k.ts, k.id]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export function decodeCursor(cursor: string): Keyset {
  try {
    const b64 = cursor.replace(/-/g, '+').replace(/_/g, '/');
    const v = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      Number.isSafeInteger(v[0]) &&
      typeof v[1] === 'string' &&
      v[1].length > 0 &&
      v[1].length <= 200
    ) {
      return { ts: v[0] as number, id: v[1] };
    }
  } catch {
    // fall through to the one error below
  }
  throw validationError([{ path: '/cursor', message: 'not a cursor returned by this API' }]);
}
