/** Helpers for fixed-shape token detectors (prefix + charset + length). */
import { isAsciiAlnum } from './text';
import type { Work } from './types';

/**
 * Calls `at(p)` for each recorded position `p` (ascending, from the one pass in `numbers.ts`);
 * `at` returns where to resume, so positions inside a match are skipped. Linear when `at` reads
 * a bounded number of characters.
 */
export function eachPosition(
  positions: readonly number[],
  work: Work,
  at: (p: number) => number,
): void {
  let from = 0;
  work.steps += positions.length;
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k]!;
    if (p < from) continue;
    from = Math.max(p + 1, at(p));
  }
}

/**
 * Reads chars accepted by `pred` from `i`, at most `max` of them; returns the end, or -1 when the
 * run is shorter than `min` or longer than `max` (a longer run is some other token).
 */
export function readRun(
  text: string,
  i: number,
  min: number,
  max: number,
  pred: (c: number) => boolean,
  work: Work,
): number {
  let e = i;
  while (e < text.length && e - i <= max && pred(text.charCodeAt(e))) e++;
  work.steps += e - i;
  const n = e - i;
  return n < min || n > max ? -1 : e;
}

export function isAlnumOrUnderscore(c: number): boolean {
  return isAsciiAlnum(c) || c === 95;
}
