/**
 * The person_name and postal_address detectors share one reading of the text: the capitalised
 * words (`person-name.ts`, `collect`) and, noted on the way, the numbers right after them, which
 * are the only house numbers an address can have (`Storgata 5`, `Karl Johans gate 22`). Addresses
 * are decided first (`postal-address.ts`), then names, which skip the words of an address.
 */
import { getTables } from './data';
import { collect, scanNames } from './person-name';
import { matchAt } from './postal-address';
import { isDigit } from './text';
import type { Detection, Detector, Work } from './types';

/** `capitals`: the engine's word-initial capitals of `text` (`ScanContext.capitals`), if known. */
export function scanNamesAndAddresses(
  text: string,
  out: Detection[],
  work: Work,
  capitals: readonly number[] | null = null,
): void {
  const t = getTables();
  const tok = collect(text, t, work, capitals);
  const taken: number[] = [];
  let resume = 0;
  for (const ns of tok.numbers) {
    if (ns < resume) continue;
    let ne = ns + 1;
    while (ne < ns + 5 && isDigit(text.charCodeAt(ne))) ne++;
    if (isDigit(text.charCodeAt(ne))) continue;
    const m = matchAt(t, text, ns, ne, work);
    if (m) {
      out.push({ type: 'postal_address', start: m[0], end: m[1] });
      taken.push(m[0], m[1]);
      resume = m[1];
    }
  }
  scanNames(text, t, tok, taken, out, work);
}

/** Reports `postal_address` and `person_name` (registered once). */
export const namesAndAddresses: Detector = {
  types: ['person_name', 'postal_address'],
  capitals: true,
  scan(text, ctx, out): void {
    scanNamesAndAddresses(text, out, ctx.work, ctx.capitals ?? null);
  },
};
