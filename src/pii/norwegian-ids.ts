/**
 * Validation of Norwegian identifiers (pure functions over digit strings) and the rule that tells
 * a fødselsnummer from a kontonummer.
 *
 * Fødselsnummer: DDMMYY III K1 K2.
 * - D-nummer: first digit + 4 (day 41–71). H-nummer and NAV synthetic numbers: month + 40
 *   (41–52). Skatteetaten (Tenor) synthetic numbers: month + 80 (81–92). They may combine with
 *   the D-nummer offset.
 * - K1: weights 3 7 6 1 8 9 4 5 2 over the first nine digits. Until 2032 the weighted sum plus
 *   K1 must be ≡ 0 (mod 11). Numbers issued from 1 January 2032 may use a remainder of 0, 1, 2 or 3,
 *   so K1 can take up to four values (Skatteetaten, "Nytt fødselsnummer fra 2032").
 * - K2: weights 5 4 3 2 7 6 5 4 3 2 over the first ten digits; unchanged in 2032.
 * - The century is no longer derivable from the individual number, so 29 February is accepted
 *   when the two-digit year is a leap year in some century (yy % 4 === 0; 2000 was a leap year).
 * - FH-nummer (felles hjelpenummer, health sector): first digit 8 or 9, no date, both control
 *   digits as before 2032. Nine digits of randomness and two checks only, so it is reported only
 *   with a fødselsnummer context word.
 *
 * Kontonummer: 11 digits, weights 5 4 3 2 7 6 5 4 3 2 and the last digit as mod-11 control. These
 * are exactly the K2 weights, so every valid fødselsnummer also passes the kontonummer check.
 *
 * Organisasjonsnummer: 9 digits starting with 8 or 9, weights 3 2 7 6 5 4 3 2, mod-11 control.
 */
import { CTX_FNR, CTX_KONTO, CTX_NEGATIVE, nearestContext } from './context';
import { gluedLeft, gluedRight, hasLens } from './numbers';
import type { NumberGroup, Work } from './types';

const W_K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2] as const;
const W_K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;
const W_ORG = [3, 2, 7, 6, 5, 4, 3, 2] as const;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function digitAt(s: string, i: number): number {
  return s.charCodeAt(i) - 48;
}

function weightedSum(s: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += digitAt(s, i) * weights[i]!;
  return sum;
}

/** 0: invalid; 1: valid fødselsnummer/D/H/synthetic; 2: valid FH-nummer (needs context). */
export type FnrKind = 0 | 1 | 2;

/** Validates an 11-digit string as a fødselsnummer (any variant) or FH-nummer. */
export function fnrKind(s: string): FnrKind {
  if (s.length !== 11) return 0;
  const k1 = digitAt(s, 9);
  const k2 = digitAt(s, 10);
  const r1 = (weightedSum(s, W_K1) + k1) % 11;
  const k2ok = (weightedSum(s, W_K2) + k2) % 11 === 0;
  if (!k2ok) return 0;
  const first = digitAt(s, 0);
  if (first >= 8) return r1 === 0 ? 2 : 0;
  if (r1 > 3) return 0;
  let day = first * 10 + digitAt(s, 1);
  let month = digitAt(s, 2) * 10 + digitAt(s, 3);
  const yy = digitAt(s, 4) * 10 + digitAt(s, 5);
  if (day > 40) day -= 40;
  if (month > 80) month -= 80;
  else if (month > 40) month -= 40;
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return 0;
  if (month === 2 && day === 29 && yy % 4 !== 0) return 0;
  return 1;
}

/** Whether an 11-digit string passes the kontonummer mod-11 check. */
export function isValidKontonummer(s: string): boolean {
  if (s.length !== 11) return false;
  return (weightedSum(s, W_K2) + digitAt(s, 10)) % 11 === 0;
}

/** Whether a 9-digit string is a valid organisasjonsnummer. */
export function isValidOrganisasjonsnummer(s: string): boolean {
  if (s.length !== 9) return false;
  const first = digitAt(s, 0);
  if (first !== 8 && first !== 9) return false;
  return (weightedSum(s, W_ORG) + digitAt(s, 8)) % 11 === 0;
}

/**
 * Decides what an 11-digit group is: a fødselsnummer, a kontonummer, or neither.
 *
 * - `1234.56.78903` / `1234 56 78903` (the way account numbers are written) → kontonummer if the
 *   mod-11 check passes, unless an order, invoice, reference or amount word is nearest.
 *   Fødselsnumre are never written that way.
 * - `010190 12345` → fødselsnummer if valid.
 * - 11 plain digits: an account word (`kontonr`, `konto`, `account` …) nearest makes it a
 *   kontonummer (when mod-11 valid). Otherwise it is a fødselsnummer when the date, K1 and K2
 *   are valid — whatever other word is near: about 1 in 1,000 random 11-digit strings passes
 *   all three, so a reference or amount word (`Sak`, `kundenr`, `Customer`) does not outweigh
 *   them. An FH-nummer (no date) needs a fødselsnummer word. A number that only passes the
 *   kontonummer check (1 in 11 do) is nothing without an account word.
 */
export function classifyElevenDigits(
  text: string,
  g: NumberGroup,
  work: Work,
): 'no_fodselsnummer' | 'no_kontonummer' | null {
  if (g.digits.length !== 11 || g.plus) return null;
  if (gluedLeft(text, g.start) || gluedRight(text, g.end)) return null;
  const ctx = nearestContext(text, g.start, CTX_FNR | CTX_KONTO | CTX_NEGATIVE, work);
  const spaced = g.sep === 32 || g.sep === 46;
  if (spaced && hasLens(g, [4, 2, 5])) {
    return !(ctx & CTX_NEGATIVE) && isValidKontonummer(g.digits) ? 'no_kontonummer' : null;
  }
  const plain = g.lens.length === 1;
  if (!plain && !((g.sep === 32 || g.sep === 45) && hasLens(g, [6, 5]))) return null;
  if (plain && ctx === CTX_KONTO) return isValidKontonummer(g.digits) ? 'no_kontonummer' : null;
  const kind = fnrKind(g.digits);
  return kind === 1 || (kind === 2 && ctx === CTX_FNR) ? 'no_fodselsnummer' : null;
}
