/**
 * IBANs: country code, two check digits, the BBAN; the length must be the country's and the
 * ISO 13616 mod-97 check must give 1. A Norwegian IBAN (NOkk + 11 digits) also carries a
 * kontonummer whose own mod-11 check must pass. Written compact or in groups of four.
 */
import { isValidKontonummer } from './norwegian-ids';
import { isAsciiAlnum, isDigit, isUpper, isWordChar } from './text';
import type { Detector, Work } from './types';

/** IBAN length per country (SWIFT IBAN registry). */
const LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** ISO 7064 mod 97-10 over the rearranged IBAN, computed digit by digit (no big integers). */
export function ibanChecksumOk(compact: string): boolean {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isUpper(c)) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** Validates a compact IBAN (no spaces, upper case). */
export function isValidIban(compact: string): boolean {
  const len = LENGTHS[compact.slice(0, 2)];
  if (len === undefined || compact.length !== len) return false;
  if (!ibanChecksumOk(compact)) return false;
  if (compact.startsWith('NO')) return isValidKontonummer(compact.slice(4));
  return true;
}

/**
 * Reads an IBAN starting at `start` (country code) for exactly the country's length, allowing
 * single spaces between characters. Returns the end offset, or -1. Allocates nothing: the
 * compact string is only built for candidates that pass the length and boundary checks.
 */
function readIban(text: string, start: number, len: number, work: Work): number {
  let count = 0;
  let i = start;
  while (count < len && i < text.length) {
    const c = text.charCodeAt(i);
    if (isAsciiAlnum(c)) {
      count++;
      i++;
    } else if (c === 32 && count >= 4 && isAsciiAlnum(text.charCodeAt(i + 1))) i++;
    else break;
  }
  work.steps += i - start;
  return count === len && !isWordChar(text.charCodeAt(i)) ? i : -1;
}

export const iban: Detector = {
  types: ['iban'],
  scan(text, ctx, out): void {
    let lastEnd = 0;
    for (const start of ctx.ibanStarts) {
      if (start < lastEnd) continue;
      const len = LENGTHS[text.slice(start, start + 2)];
      if (len === undefined) continue;
      const end = readIban(text, start, len, ctx.work);
      if (end < 0) continue;
      const compact = text.slice(start, end).replace(/ /g, '').toUpperCase();
      if (!isValidIban(compact)) continue;
      out.push({ type: 'iban', start, end });
      lastEnd = end;
    }
  },
};
