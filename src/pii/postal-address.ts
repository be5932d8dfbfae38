/**
 * Norwegian postal addresses: a street with a house number (and letter), optionally followed by
 * `, NNNN POSTSTED`, and `Postboks N, NNNN POSTSTED`.
 *
 * Anchored on short numbers (1–4 digits at a word start). The word before a number decides:
 * - a street generic as its own word after a capitalised name (`Karl Johans gate 22`,
 *   `Dronning Eufemias gate 16`, `Henrik Ibsens vei 3`, `Kongens gt. 5`);
 * - a capitalised compound with a street suffix (`Storgata 5`, `Kirkeveien 12 B`,
 *   `Øvre Slottsgate 3`, `Storgt. 7`); landform suffixes that are also surnames or places
 *   (`-bakken`, `-haugen`, `-lia`, `-åsen` …) need more: not a registered name, a postnummer, or
 *   an address word before;
 * - `Postboks`/`Boks`/`Pb.`/`PO Box` + number, with a postnummer;
 * - any capitalised name + number when a valid `NNNN POSTSTED` follows (`Hovland 12, 5200 Os`);
 * - lower-case compounds (`storgata 5`) after `i`, `på`, `adresse` … or with a postnummer.
 * The postnummer must exist in the Posten/Bring register and the poststed after it must be the
 * register's place for that code; then the finding covers it too. Road numbers (`Riksvei 7`,
 * `E6`), amounts, percentages and a bare `Storgata` are not addresses.
 *
 * Linear: one pass finds the numbers; the reads before (≤ 80 chars) and after (≤ 80) each are
 * bounded, and the scan resumes after a match.
 */
import { getTables, FIRST, FIRST_EN, LAST, PLACE, type Tables } from './data';
import { isDigit, isLetter, work } from './text';
import type { Detection, Detector } from './types';

const WEAK_SUFFIXES = new Set(
  (
    'bakken bakke bakkane lia lien liene åsen haugen høgda høyden jordet løkka løkken lunden myra ' +
    'moen skogen toppen kollen vollen hagen hagan parken engen enga flata sletta stranda dalen ' +
    'berget bråten bråtan tangen vangen ringen tunet tun grenda grend kroken'
  ).split(' '),
);

/** Roads known by number, not street addresses. */
const ROADS = new Set(
  (
    'riksvei riksveg riksveien fylkesvei fylkesveg fylkesveien europavei europaveien motorvei ' +
    'motorveien hovedvei hovedveien kommunevei skogsvei gangvei sykkelvei privatvei ' +
    'omkjøringsvei omkjøringsveien rv fv ev'
  ).split(' '),
);

const PO_BOX = new Set(['postboks', 'boks', 'pb', 'pb.', 'box']);

/** Words before a street that say an address follows. */
const ADDRESS_CUES = new Set(
  (
    'i på til adresse adressen adr adr. address addresse bosatt bor fra c/o besøksadresse ' +
    'postadresse gateadresse hjemmeadresse leveringsadresse fakturaadresse'
  ).split(' '),
);

/** Units and words after a number that make it a quantity, not a house number. */
const UNITS = new Set(
  (
    'km m meter meters prosent kr kroner nok år ganger minutter min timer dager uker måneder ' +
    'personer stk mill millioner milliarder kg tonn liter grader cm mm percent years times ' +
    'minutes hours days weeks months people dollars euro'
  ).split(' '),
);

function isUpper(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0xde && c !== 0xd7);
}

function isSpaceChar(c: number): boolean {
  return c === 32 || c === 0xa0 || c === 0x202f;
}

function endsWithSuffix(lower: string, suffixes: readonly string[]): string | null {
  for (const s of suffixes) if (lower.length >= s.length + 2 && lower.endsWith(s)) return s;
  return null;
}

/** A capitalised word (letters, inner `-`, a trailing `.` for `St.`) ending just before `e`. */
function capWordBefore(text: string, e: number): number {
  let i = e;
  const period = text.charCodeAt(i - 1) === 46;
  if (period) i--;
  const end = i;
  while (i > 0 && i > e - 30) {
    const c = text.charCodeAt(i - 1);
    if (isLetter(c) || (c === 45 && isLetter(text.charCodeAt(i - 2)))) i--;
    else break;
  }
  if (i === end || !isUpper(text.charCodeAt(i))) return -1;
  if (period && end - i > 3) return -1; // `St.` but not a sentence end (`Møtet.`)
  if (isLetter(text.charCodeAt(i - 1)) || isDigit(text.charCodeAt(i - 1))) return -1;
  return i;
}

/**
 * `, NNNN POSTSTED` (or ` NNNN`, or on the next line) from `pos`: the end of the poststed when the
 * code exists and the place is the register's, else -1.
 */
function postcodeAfter(t: Tables, text: string, pos: number): number {
  let i = pos;
  let seps = 0;
  while (seps < 3) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 32 || c === 10 || c === 13 || c === 0xa0 || c === 9) {
      i++;
      seps++;
    } else break;
  }
  if (seps === 0) return -1;
  for (let k = 0; k < 4; k++) if (!isDigit(text.charCodeAt(i + k))) return -1;
  if (isDigit(text.charCodeAt(i + 4)) || !isSpaceChar(text.charCodeAt(i + 4))) return -1;
  const code = Number(text.slice(i, i + 4));
  const place = t.postal[code];
  if (!place) return -1;
  let p = i + 5;
  while (isSpaceChar(text.charCodeAt(p)) && p < i + 8) p++;
  const written = text.slice(p, p + place.length);
  if (written.length !== place.length || written.toUpperCase() !== place) return -1;
  if (isLetter(text.charCodeAt(p + place.length))) return -1;
  return p + place.length;
}

/** Appends the postal addresses in `text` to `out`. */
export function scanPostalAddresses(text: string, out: Detection[]): void {
  const t = getTables();
  const n = text.length;
  let i = 0;
  let resume = 0;
  let steps = n;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (c < 48 || c > 57) {
      if (++i >= n) break;
      c = text.charCodeAt(i);
    }
    if (i >= n) break;
    const ns = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    const ne = i;
    steps += ne - ns;
    if (ns < resume || ne - ns > 4 || text.charCodeAt(ns) === 48) continue;
    const prev = text.charCodeAt(ns - 1);
    if (!isSpaceChar(prev)) continue;
    const match = matchAt(t, text, ns, ne);
    if (match) {
      out.push({ type: 'postal_address', start: match[0], end: match[1] });
      resume = match[1];
      i = Math.max(i, match[1]);
    }
  }
  work.steps += steps;
}

/** The address span around the house number `text[ns, ne)`, or null. */
function matchAt(t: Tables, text: string, ns: number, ne: number): [number, number] | null {
  work.steps += 160;
  // The word before the number.
  const we = ns - 1;
  let ws = we;
  if (text.charCodeAt(ws - 1) === 46) ws--;
  while (
    ws > 0 &&
    ws > we - 30 &&
    (isLetter(text.charCodeAt(ws - 1)) || text.charCodeAt(ws - 1) === 45)
  )
    ws--;
  if (
    ws === we ||
    (ws > 0 && (isDigit(text.charCodeAt(ws - 1)) || isLetter(text.charCodeAt(ws - 1))))
  )
    return null;
  const word = text.slice(ws, we);
  const lower = word.toLowerCase();
  const capital = isUpper(word.charCodeAt(0));

  // After the number: a letter, a range, then maybe the postnummer.
  let e = ne;
  const a = text.charCodeAt(e);
  if (isLetter(a) && !isLetter(text.charCodeAt(e + 1))) e++;
  else if (
    isSpaceChar(a) &&
    isUpper(text.charCodeAt(e + 1)) &&
    !isLetter(text.charCodeAt(e + 2)) &&
    !isDigit(text.charCodeAt(e + 2))
  )
    e += 2; // `12 B`
  else if ((a === 45 || a === 0x2013) && isDigit(text.charCodeAt(e + 1))) {
    let r = e + 1;
    while (r < e + 5 && isDigit(text.charCodeAt(r))) r++;
    if (!isDigit(text.charCodeAt(r))) e = r; // `5-7`
  }
  const z = text.charCodeAt(e);
  if (
    isLetter(z) ||
    isDigit(z) ||
    z === 37 /* % */ ||
    (z === 44 && isDigit(text.charCodeAt(e + 1))) ||
    (z === 46 && isDigit(text.charCodeAt(e + 1))) ||
    z === 58
  )
    return null;
  const unit = nextWord(text, e);
  if (UNITS.has(unit)) return null;
  let postEnd = postcodeAfter(t, text, e);

  // PO boxes: `Postboks 123, 0102 Oslo`, `Postboks 6706 St. Olavs plass, 0130 Oslo`, `PO Box 5`.
  if (PO_BOX.has(lower) || lower === 'pb.') {
    let start = ws;
    if (lower === 'box') {
      const p = text.slice(Math.max(0, ws - 5), ws).toLowerCase();
      if (!/(?:^|\s)p\.?\s?o\.?\s$/.test(p)) return null;
      start = ws - (p.length - p.search(/p\.?\s?o\.?\s$/));
    }
    if (postEnd < 0) {
      // A delivery point between the number and the postnummer.
      let p = e;
      for (let w = 0; w < 4 && postEnd < 0; w++) {
        while (isSpaceChar(text.charCodeAt(p))) p++;
        const s = p;
        while (p < s + 20 && (isLetter(text.charCodeAt(p)) || text.charCodeAt(p) === 46)) p++;
        if (p === s) break;
        postEnd = postcodeAfter(t, text, p);
      }
    }
    return postEnd > 0 ? [start, postEnd] : null;
  }
  if (ROADS.has(lower.replace(/\.$/, ''))) return null;

  let start = -1;
  let strong = false;
  if ((t.streetWords.has(lower) || t.streetAbbreviations.has(lower)) && (!capital || postEnd > 0)) {
    // `Karl Johans gate 22`: capitalised words before the generic.
    let s = ws;
    let words = 0;
    while (words < 4 && isSpaceChar(text.charCodeAt(s - 1))) {
      const w = capWordBefore(text, s - 1);
      if (w < 0) break;
      s = w;
      words++;
    }
    if (words === 0) return null;
    start = s;
    strong = true;
  } else if (capital) {
    const suffix = endsWithSuffix(lower, t.streetSuffixes) ?? endsWithAbbrev(lower, t);
    start = ws;
    if (suffix) {
      const flags = t.words.get(word) ?? 0;
      strong = !WEAK_SUFFIXES.has(suffix) || !(flags & (FIRST | FIRST_EN | LAST | PLACE));
    } else if (postEnd < 0) return null;
    // Prefix words: `Øvre Slottsgate`, `Gamle Drammensvei`, `St. Olavs gate`.
    for (let words = 0; words < 3 && isSpaceChar(text.charCodeAt(start - 1)); words++) {
      const w = capWordBefore(text, start - 1);
      if (w < 0) break;
      const pw = text.slice(w, start - 1);
      if (
        !t.streetPrefixes.has(pw) &&
        pw !== 'St.' &&
        pw !== 'Sankt' &&
        !(suffix === null && postEnd > 0)
      )
        break;
      start = w;
    }
  } else {
    // Lower case: `bor i storgata 5`.
    const suffix = endsWithSuffix(lower, t.streetSuffixes);
    if (!suffix || WEAK_SUFFIXES.has(suffix)) return null;
    start = ws;
    const before = prevWord(text, ws);
    strong = ADDRESS_CUES.has(before);
  }
  if (!strong && postEnd < 0 && !ADDRESS_CUES.has(prevWord(text, start))) return null;
  return [start, postEnd > 0 ? postEnd : e];
}

function endsWithAbbrev(lower: string, t: Tables): string | null {
  // `Storgt.`, `Kirkevn.`
  for (const a of t.streetAbbreviations) {
    if (a.endsWith('.') && a.length >= 3 && lower.length > a.length + 1 && lower.endsWith(a))
      return a;
  }
  return null;
}

function nextWord(text: string, pos: number): string {
  let i = pos;
  if (!isSpaceChar(text.charCodeAt(i))) return '';
  i++;
  const s = i;
  while (i < s + 12 && isLetter(text.charCodeAt(i))) i++;
  if (isLetter(text.charCodeAt(i))) return '';
  return text.slice(s, i).toLowerCase();
}

function prevWord(text: string, pos: number): string {
  let i = pos;
  while (i > pos - 3 && i > 0 && isSpaceChar(text.charCodeAt(i - 1))) i--;
  if (i === pos) return '';
  const e = i;
  while (
    i > e - 20 &&
    i > 0 &&
    (isLetter(text.charCodeAt(i - 1)) ||
      text.charCodeAt(i - 1) === 47 ||
      text.charCodeAt(i - 1) === 46)
  )
    i--;
  return text.slice(i, e).toLowerCase().replace(/[.:]$/, '');
}

export const postalAddress: Detector = {
  type: 'postal_address',
  category: 'personal_data',
  scan: scanPostalAddresses,
};
