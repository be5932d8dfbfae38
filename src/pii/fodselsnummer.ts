/**
 * Norwegian national identity numbers: fødselsnummer, D-nummer, H-nummer, synthetic test numbers
 * (NAV +40 and Skatteetaten +80 on the month), FH-nummer with context, and the 2032 K1 rule.
 * Validation lives in `norwegian-ids.ts`.
 */
import { classifyElevenDigits } from './norwegian-ids';
import type { Detector } from './types';

export { fnrKind } from './norwegian-ids';

export const fodselsnummer: Detector = {
  types: ['no_fodselsnummer'],
  numeric: true,
  scan(text, ctx, out): void {
    for (const g of ctx.groups) {
      if (g.digits.length !== 11) continue;
      if (classifyElevenDigits(text, g, ctx.work) === 'no_fodselsnummer') {
        out.push({ type: 'no_fodselsnummer', start: g.start, end: g.end });
      }
    }
  },
};
