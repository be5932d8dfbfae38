/**
 * Phone numbers: Norwegian 8-digit numbers (first digit 2–9; 0 and 1 begin no 8-digit number in
 * the Norwegian numbering plan), with `+47`/`0047` or in the usual groupings `912 34 567` and
 * `22 33 44 55`; and international E.164 numbers `+<country code> …` (up to 15 digits, a
 * country code that exists, the North American plan's area/exchange rules for +1).
 *
 * Eight plain digits (`91234567`), `9123 4567` and the dashed `412-34-567` are reported only
 * after a phone word (`tlf`, `mobil`, `ring`, `phone` …): a date like 20240115 is eight digits
 * starting with 2. `004791234567` (no space) is Norway's code and a subscriber number.
 */
import { CTX_NEGATIVE, CTX_PHONE, followedByMoney, nearestContext } from './context';
import { gluedLeft, gluedRight, hasLens } from './numbers';
import type { Detector, NumberGroup, Work } from './types';

/** An 8-digit Norwegian subscriber number. */
export function isNorwegianNumber(digits: string): boolean {
  if (digits.length !== 8) return false;
  const first = digits.charCodeAt(0) - 48;
  return first >= 2 && first <= 9;
}

const ONE_DIGIT_CC = new Set(['1', '7']);
const TWO_DIGIT_CC = new Set(
  (
    '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 ' +
    '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'
  ).split(' '),
);
/** First two digits of the three-digit country codes. */
const THREE_DIGIT_CC_PREFIX = new Set(
  '21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 85 87 88 96 97 99'.split(' '),
);

/** Length of the country code at the start of `digits`, or 0 when none is assigned. */
export function countryCodeLength(digits: string): number {
  if (ONE_DIGIT_CC.has(digits.slice(0, 1))) return 1;
  const two = digits.slice(0, 2);
  if (TWO_DIGIT_CC.has(two)) return 2;
  if (THREE_DIGIT_CC_PREFIX.has(two)) return 3;
  return 0;
}

/** Validates the digits of an international number (country code first, no `+`/`00`). */
export function isE164(digits: string): boolean {
  if (digits.length < 8 || digits.length > 15) return false;
  const cc = countryCodeLength(digits);
  if (cc === 0) return false;
  if (cc === 2 && digits.startsWith('47')) return isNorwegianNumber(digits.slice(2));
  if (cc === 1 && digits[0] === '1') {
    // NANP: 1 NXX NXX XXXX, N = 2–9.
    return digits.length === 11 && digits[1]! >= '2' && digits[4]! >= '2';
  }
  return digits.length - cc >= 6;
}

const NO_GROUPINGS: readonly (readonly number[])[] = [[8], [3, 2, 3], [2, 2, 2, 2], [4, 4]];

function isNorwegianLayout(lens: readonly number[], from: number): boolean {
  return NO_GROUPINGS.some(
    (p) => p.length === lens.length - from && p.every((l, i) => lens[from + i] === l),
  );
}

/** The detection span for a group, or null. */
function match(text: string, g: NumberGroup, work: Work): [number, number] | null {
  if (gluedRight(text, g.end)) return null;
  const d = g.digits;
  if (g.plus) return isE164(d) ? [g.start - 1, g.end] : null;
  if (gluedLeft(text, g.start)) return null;
  // Inside a longer group, a layout of short chunks only counts at its start.
  const first = !g.sub || g.sub.first;
  // 0047 91234567, 0046 8 123 456 78: the international call prefix written as 00.
  // 004791234567 written without a space: only Norway's code, only a valid subscriber number,
  // and not after a reference or amount word (zero-padded order numbers look like this too).
  if (first && g.lens.length === 1 && d.length === 12 && d.startsWith('0047')) {
    if (!isNorwegianNumber(d.slice(4)) || followedByMoney(text, g.end)) return null;
    return nearestContext(text, g.start, CTX_NEGATIVE, work) ? null : [g.start, g.end];
  }
  if (first && d.startsWith('00') && (g.lens[0] === 4 || g.lens[0] === 5) && g.sep !== 46) {
    if (d.startsWith('0047')) {
      return isNorwegianNumber(d.slice(4)) && isNorwegianLayout(g.lens, 1)
        ? [g.start, g.end]
        : null;
    }
    return isE164(d.slice(2)) ? [g.start, g.end] : null;
  }
  if (!isNorwegianNumber(d)) return null;
  if (g.sep === 45) {
    // `412-34-567`, `41-23-45-67`: a phone layout with dashes, but only after a phone word
    // (product and order codes are written like this too).
    if (!(hasLens(g, [3, 2, 3]) || hasLens(g, [2, 2, 2, 2])) || g.sub) return null;
    if (followedByMoney(text, g.end)) return null;
    return nearestContext(text, g.start, CTX_PHONE | CTX_NEGATIVE, work) === CTX_PHONE
      ? [g.start, g.end]
      : null;
  }
  if (g.sep !== 0 && g.sep !== 32) return null;
  const strong = hasLens(g, [3, 2, 3]) || hasLens(g, [2, 2, 2, 2]);
  const weak = hasLens(g, [8]) || hasLens(g, [4, 4]);
  if (!strong && !weak) return null;
  const ctx = nearestContext(text, g.start, CTX_PHONE | CTX_NEGATIVE, work);
  if (ctx & CTX_NEGATIVE || followedByMoney(text, g.end)) return null;
  if (strong && g.sub && ctx !== CTX_PHONE) {
    // `Ring 912 34 567 22` is a number and more; `23 34 45 56 67` a list of numbers.
    if (!first || g.sub.nextLen === g.lens[g.lens.length - 1]) return null;
  }
  if (strong || ctx === CTX_PHONE || /\+47\)? ?$/.test(text.slice(g.start - 6, g.start))) {
    return [g.start, g.end];
  }
  return null;
}

export const phone: Detector = {
  types: ['phone'],
  numeric: true,
  scan(text, ctx, out): void {
    for (const g of ctx.groups) {
      const n = g.digits.length;
      if (n < 8 || n > 15) continue;
      const span = match(text, g, ctx.work);
      if (span) out.push({ type: 'phone', start: span[0], end: span[1] });
    }
  },
};
