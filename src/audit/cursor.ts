/**
 * Audit list cursors: the keyset `[ts, id]` of a page's last row in the list order, encoded by
 * the shared opaque-cursor helpers (src/pagination.ts).
 */
import { decodeCursor as decode, encodeCursor as encode } from '../pagination';
import type { Keyset } from './store';

export function encodeCursor(k: Keyset): string {
  return encode([k.ts, k.id]);
}

export function decodeCursor(cursor: string): Keyset {
  return decode(cursor, (v) =>
    Array.isArray(v) &&
    v.length === 2 &&
    Number.isSafeInteger(v[0]) &&
    typeof v[1] === 'string' &&
    v[1].length > 0 &&
    v[1].length <= 200
      ? { ts: v[0] as number, id: v[1] }
      : undefined,
  );
}
