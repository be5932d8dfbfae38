/**
 * Norwegian bank account numbers (11 digits, mod-11). Written `1234.56.78903` or `1234 56 78903`
 * they are reported on the checksum alone; as 11 plain digits only with an account context word,
 * because every fødselsnummer passes the same check (see `classifyElevenDigits`).
 */
import { classifyElevenDigits } from './norwegian-ids';
import type { Detector } from './types';

export { isValidKontonummer } from './norwegian-ids';

export const kontonummer: Detector = {
  types: ['no_kontonummer'],
  numeric: true,
  scan(text, ctx, out): void {
    for (const g of ctx.groups) {
      if (g.digits.length !== 11) continue;
      if (classifyElevenDigits(text, g, ctx.work) === 'no_kontonummer') {
        out.push({ type: 'no_kontonummer', start: g.start, end: g.end });
      }
    }
  },
};
