/** Helpers for fixed-shape token detectors (prefix + charset + length). */
import { isAsciiAlnum, work } from './text';

/**
 * Finds each occurrence of `prefix` at a token boundary and calls `match(start, bodyStart)`,
 * which returns the token end or -1. Scanning resumes after a match, so the work is linear as
 * long as `match` reads a bounded number of characters.
 */
export function scanPrefix(
  text: string,
  prefix: string,
  isTokenChar: (c: number) => boolean,
  match: (start: number, bodyStart: number) => number,
  onMatch: (start: number, end: number) => void,
): void {
  let from = 0;
  for (;;) {
    const s = text.indexOf(prefix, from);
    work.steps += (s < 0 ? text.length : s) - from + 1;
    if (s < 0) return;
    from = s + 1;
    if (s > 0 && isTokenChar(text.charCodeAt(s - 1))) continue;
    const e = match(s, s + prefix.length);
    if (e < 0) continue;
    onMatch(s, e);
    from = e;
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

/**
 * Calls `at(p)` for each occurrence of the single character `ch`; `at` returns where to resume
 * (after a match, its end). Linear when `at` reads a bounded number of characters.
 */
export function scanChar(text: string, ch: string, at: (p: number) => number): void {
  let from = 0;
  for (;;) {
    const p = text.indexOf(ch, from);
    work.steps += (p < 0 ? text.length : p) - from + 1;
    if (p < 0) return;
    from = Math.max(p + 1, at(p));
  }
}
