/**
 * Norwegian national identity numbers: fødselsnummer, D-nummer, H-nummer, synthetic test numbers
 * (NAV +40 and Skatteetaten +80 on the month), FH-nummer with context, and the 2032 K1 rule.
 * Validation lives in `norwegian-ids.ts`.
 */
import { classifyElevenDigits } from './norwegian-ids';
import { tokens } from './numbers';
import type { Detection, Detector } from './types';

export { fnrKind } from './norwegian-ids';

export const fodselsnummer: Detector = {
  type: 'no_fodselsnummer',
  category: 'personal_data',
  scan(text: string, out: Detection[]): void {
    for (const g of tokens(text).groups) {
      if (g.digits.length !== 11) continue;
      if (classifyElevenDigits(text, g) === 'no_fodselsnummer') {
        out.push({ type: 'no_fodselsnummer', start: g.start, end: g.end });
      }
    }
  },
};
