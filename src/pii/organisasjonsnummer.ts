/**
 * Norwegian organisation numbers: 9 digits starting with 8 or 9, mod-11 (weights 3 2 7 6 5 4 3 2).
 *
 * One random 9-digit number in 55 passes, so plain `923609016` needs a context word (`org.nr`,
 * `organisasjonsnummer`, `MVA`, `company` …). The grouped form `923 609 016` is reported unless an
 * amount or version word is nearest or an order or reference word labels it (`Ordre 923 609 016`,
 * but `Faktura fra 923 609 016`), and `NO 923 609 016 MVA` (the VAT form) always.
 */
import {
  CTX_NEGATIVE,
  CTX_ORG,
  CTX_REFERENCE,
  followedByMoney,
  labelOf,
  nearestContext,
} from './context';
import { isValidOrganisasjonsnummer } from './norwegian-ids';
import { gluedLeft, gluedRight, hasLens } from './numbers';
import { allChars, isDigit, isWordChar } from './text';
import type { Detector } from './types';

export { isValidOrganisasjonsnummer } from './norwegian-ids';

/** `NO` directly or with one space before the number, `MVA` after it. */
function vatForm(text: string, start: number, end: number): boolean {
  let s = start;
  if (text.charCodeAt(s - 1) === 32) s--;
  const no = text.slice(s - 2, s);
  let e = end;
  if (text.charCodeAt(e) === 32) e++;
  return (no === 'NO' || no === 'no') && text.slice(e, e + 3).toUpperCase() === 'MVA';
}

export const organisasjonsnummer: Detector = {
  types: ['no_organisasjonsnummer'],
  numeric: true,
  scan(text, ctx, out): void {
    const { groups, ibanStarts } = ctx;
    // `NO923609016MVA` is glued to letters, so the tokenizer lists it with the IBAN candidates.
    for (const p of ibanStarts) {
      if (text.charCodeAt(p) !== 78 || text.charCodeAt(p + 1) !== 79) continue; // NO
      if (!allChars(text, p + 2, 9, isDigit) || isDigit(text.charCodeAt(p + 11))) continue;
      if (text.slice(p + 11, p + 14).toUpperCase() !== 'MVA') continue;
      if (isWordChar(text.charCodeAt(p + 14))) continue;
      if (isValidOrganisasjonsnummer(text.slice(p + 2, p + 11))) {
        out.push({ type: 'no_organisasjonsnummer', start: p + 2, end: p + 11 });
      }
    }
    for (const g of groups) {
      if (g.digits.length !== 9 || g.plus) continue;
      const grouped = (g.sep === 32 || g.sep === 46) && hasLens(g, [3, 3, 3]);
      if (!grouped && g.lens.length !== 1) continue;
      if (!isValidOrganisasjonsnummer(g.digits)) continue;
      if (vatForm(text, g.start, g.end)) {
        out.push({ type: 'no_organisasjonsnummer', start: g.start, end: g.end });
        continue;
      }
      if (gluedLeft(text, g.start) || gluedRight(text, g.end)) continue;
      const near = nearestContext(text, g.start, CTX_ORG | CTX_NEGATIVE, ctx.work);
      if (followedByMoney(text, g.end)) continue;
      if (near & CTX_NEGATIVE) {
        // The grouped form is how organisation numbers are printed on invoices (`Faktura fra
        // 912 345 602`): a reference word cancels it only when it labels the number (`Ordre nr.
        // 912 345 602`); amount and version words anywhere near still do (`1 234 567` amounts).
        if (!grouped || near !== CTX_REFERENCE) continue;
        if (labelOf(text, g.start, ctx.work) & CTX_REFERENCE) continue;
      }
      if (near === CTX_ORG || grouped) {
        out.push({ type: 'no_organisasjonsnummer', start: g.start, end: g.end });
      }
    }
  },
};
