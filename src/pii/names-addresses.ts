/**
 * The person_name and postal_address detectors share one reading of the text: the capitalised
 * words (`person-name.ts`, `collect`) and, noted on the way, the numbers right after them, which
 * are the house numbers an address can have (`Storgata 5`, `Karl Johans gate 22`). A text typed in
 * lower case (`storgata 5, 0155 oslo`) has no capital to start from: there the postnummer the
 * engine's pass noted (`ScanContext.postcodes`) points back to the house number before it, and
 * such a candidate counts only when the register confirms the postnummer and poststed. Addresses
 * are decided first (`postal-address.ts`), then names, which skip the words of an address.
 */
import { getTables } from './data';
import { collect, scanNames } from './person-name';
import { matchAt } from './postal-address';
import { isDigit, isLetter } from './text';
import type { Detection, Detector, Work } from './types';

/** Four digits after a space, comma, semicolon or line break (as the engine's pass notes them). */
const POSTCODE = /(?<=[ ,;\n\r\t\u00a0])\d{4}(?!\d)/g;

function isSep(c: number): boolean {
  return c === 32 || c === 44 || c === 59 || c === 10 || c === 13 || c === 9 || c === 0xa0;
}

/**
 * The house number before the possible postnummer at `p` (`5, 0155`, `12b, 0368`, `12 B 0368`):
 * its offset, or -1. A few character reads back, no more.
 */
function houseNumberBefore(text: string, p: number): number {
  let i = p;
  while (i > p - 3 && isSep(text.charCodeAt(i - 1))) i--;
  if (i === p) return -1;
  const l = text.charCodeAt(i - 1);
  if (isLetter(l) && !isLetter(text.charCodeAt(i - 2))) {
    if (isDigit(text.charCodeAt(i - 2)))
      i--; // `12b`
    else if (text.charCodeAt(i - 2) === 32 && isDigit(text.charCodeAt(i - 3))) i -= 2; // `12 B`
  }
  const ne = i;
  while (i > ne - 5 && isDigit(text.charCodeAt(i - 1))) i--;
  if (i === ne || ne - i > 4 || isDigit(text.charCodeAt(i - 1))) return -1;
  const d = text.charCodeAt(i);
  const b = text.charCodeAt(i - 1);
  // After a space, or a CSV field separator (`Storgata,5,0155,Oslo`; `matchAt` then asks for a
  // street word).
  return d !== 48 && (b === 32 || b === 0xa0 || b === 44 || b === 59) ? i : -1;
}

/**
 * `capitals`: the engine's word-initial capitals of `text` (`ScanContext.capitals`), if known;
 * `postcodes`: its possible postnummer (`ScanContext.postcodes`), if known.
 */
export function scanNamesAndAddresses(
  text: string,
  out: Detection[],
  work: Work,
  capitals: readonly number[] | null = null,
  postcodes: readonly number[] | null = null,
): void {
  const t = getTables();
  const tok = collect(text, t, work, capitals);
  const codes = postcodes ?? regexPostcodes(text);
  const taken: number[] = [];
  let resume = 0;
  // The house numbers after capitalised words (`tok.numbers`) and before postnummer (`codes`),
  // merged in text order; one from a postnummer must reach it.
  const numbers = tok.numbers;
  let a = 0;
  let c = 0;
  let hn = -2; // the house number before codes[c]; -2: not read yet
  for (;;) {
    if (hn === -2 && c < codes.length) {
      hn = houseNumberBefore(text, codes[c]!);
      work.steps += 4;
    }
    if (c < codes.length && hn < 0) {
      c++;
      hn = -2;
      continue;
    }
    const fromCapital = a < numbers.length && (c >= codes.length || numbers[a]! <= hn);
    if (!fromCapital && c >= codes.length) break;
    let ns: number;
    let code = -1;
    if (fromCapital) {
      ns = numbers[a++]!;
      if (ns === hn) {
        c++; // the same candidate: decided as before, no postnummer needed
        hn = -2;
      }
    } else {
      ns = hn;
      code = codes[c++]!;
      hn = -2;
    }
    if (ns < resume) continue;
    let ne = ns + 1;
    while (ne < ns + 5 && isDigit(text.charCodeAt(ne))) ne++;
    if (isDigit(text.charCodeAt(ne))) continue;
    const m = matchAt(t, text, ns, ne, work);
    if (m && m[1] > code) {
      out.push({ type: 'postal_address', start: m[0], end: m[1] });
      taken.push(m[0], m[1]);
      resume = m[1];
    }
  }
  scanNames(text, t, tok, taken, out, work);
}

/** {@link ScanContext.postcodes} for a text the engine's pass did not read. */
function regexPostcodes(text: string): number[] {
  const re = new RegExp(POSTCODE.source, 'g');
  const out: number[] = [];
  while (re.test(text)) out.push(re.lastIndex - 4);
  return out;
}

/** Reports `postal_address` and `person_name` (registered once). */
export const namesAndAddresses: Detector = {
  types: ['person_name', 'postal_address'],
  capitals: true,
  scan(text, ctx, out): void {
    scanNamesAndAddresses(text, out, ctx.work, ctx.capitals ?? null, ctx.postcodes ?? null);
  },
};
