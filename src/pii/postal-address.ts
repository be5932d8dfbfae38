/**
 * Norwegian postal addresses: a street with a house number (and letter), optionally followed by
 * `, NNNN POSTSTED`, and `Postboks N, NNNN POSTSTED`.
 *
 * Anchored on house numbers (1–4 digits after a space). The word before a number decides:
 * - a street generic as its own word after a capitalised name (`Karl Johans gate 22`,
 *   `Dronning Eufemias gate 16`, `Henrik Ibsens vei 3`, `Kongens gt. 5`);
 * - a capitalised compound with a street suffix (`Storgata 5`, `Kirkeveien 12 B`,
 *   `Øvre Slottsgate 3`, `Storgt. 7`); landform suffixes that are also surnames or places
 *   (`-bakken`, `-haugen`, `-lia`, `-åsen` …) need more: not a registered name, a postnummer, or
 *   an address word before;
 * - `Postboks`/`Boks`/`Pb.`/`PO Box` + number, with a postnummer;
 * - any capitalised name + number when a valid `NNNN POSTSTED` follows (`Hovland 12, 5200 Os`);
 * The postnummer must exist in the Posten/Bring register and the poststed after it must be the
 * register's place for that code; then the finding covers it too. Road numbers (`Riksvei 7`,
 * `E6`), amounts, percentages and a bare `Storgata` are not addresses.
 *
 * Linear: the candidates are the numbers after capitalised words (noted by the name detector's one
 * reading of the text, `names-addresses.ts`); the reads before (≤ 80 chars) and after (≤ 80) each
 * are bounded, and the scan resumes after a match.
 */
import {
  fold,
  FIRST,
  FIRST_EN,
  HASH_SEED,
  hashStep,
  LAST,
  LOWER,
  NON_NAME,
  PLACE,
  S_ABBR,
  S_PO_BOX,
  S_PREFIX,
  S_ROAD,
  S_WORD,
  SUFFIX_STRONG,
  SUFFIX_WEAK,
  type Tables,
  WordTable,
} from './data';
import { isDigit, isLetter } from './text';
import type { Work } from './types';

/** A lower-case word list as a table the scanner looks words up in without slicing them. */
function wordSet(words: string): WordTable {
  const table = new WordTable(8, LOWER);
  for (const w of words.split(' ')) table.add(w, 1);
  return table;
}

/** Words before a street that say an address follows. */
const ADDRESS_CUES = wordSet(
  'i på til adresse adressen adr address addresse bosatt bor fra c/o besøksadresse ' +
    'postadresse gateadresse hjemmeadresse leveringsadresse fakturaadresse',
);

/** What may follow a PO box's delivery point when no postnummer does. */
const PO_BOX_END = ',.;:)\n\r';

/** Units and words after a number that make it a quantity, not a house number. */
const UNITS = wordSet(
  'km m meter meters prosent kr kroner nok år ganger minutter min timer dager uker måneder ' +
    'personer stk mill millioner milliarder kg tonn liter grader cm mm percent years times ' +
    'minutes hours days weeks months people dollars euro',
);

function isLower(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 0xdf && c <= 0xff && c !== 0xf7);
}

function isUpper(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0xde && c !== 0xd7);
}

function isSpaceChar(c: number): boolean {
  return c === 32 || c === 0xa0 || c === 0x202f;
}

/** Suffix flags of the word `text[s, e)` read backwards: `Storgata` → strong, `Solbakken` → weak. */
function suffixOf(t: Tables, text: string, s: number, e: number): number {
  let h = HASH_SEED;
  let best = 0;
  for (let i = e - 1; i >= s + 2 && i >= e - 12; i--) {
    h = hashStep(h, fold(text.charCodeAt(i), 1, LOWER));
    const f = t.suffixTable.findReversed(h, text, i, e);
    if (f === 0) break; // no suffix ends this way
    // The longest suffix decides (`-stien` over `-en`).
    if (e - i >= 2 && f & (SUFFIX_STRONG | SUFFIX_WEAK)) best = f & (SUFFIX_STRONG | SUFFIX_WEAK);
  }
  return best;
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

/** `,` and `;`: the field separators of CSV rows and spreadsheet pastes. */
function isFieldSeparator(c: number): boolean {
  return c === 44 || c === 59;
}

/**
 * `, NNNN POSTSTED` (or ` NNNN`, or on the next line, or CSV fields `;NNNN;POSTSTED`) from `pos`:
 * the end of the poststed when the code exists and the place is the register's, else -1.
 */
function postcodeAfter(t: Tables, text: string, pos: number): number {
  let i = pos;
  let seps = 0;
  while (seps < 3) {
    const c = text.charCodeAt(i);
    if (isFieldSeparator(c) || c === 32 || c === 10 || c === 13 || c === 0xa0 || c === 9) {
      i++;
      seps++;
    } else break;
  }
  if (seps === 0) return -1;
  for (let k = 0; k < 4; k++) if (!isDigit(text.charCodeAt(i + k))) return -1;
  const after = text.charCodeAt(i + 4);
  if (!isSpaceChar(after) && after !== 9 && !isFieldSeparator(after)) return -1;
  const code =
    (text.charCodeAt(i) - 48) * 1000 +
    (text.charCodeAt(i + 1) - 48) * 100 +
    (text.charCodeAt(i + 2) - 48) * 10 +
    (text.charCodeAt(i + 3) - 48);
  const place = t.postal[code];
  if (!place) return -1;
  let p = i + 5;
  while (isSpaceChar(text.charCodeAt(p)) && p < i + 8) p++;
  // `KRISTIANSAND S` and `KRISTIANSUND N` are often written without the letter.
  const short = place.charCodeAt(place.length - 2) === 32 ? place.length - 2 : -1;
  for (let k = 0; k < place.length; k++) {
    const a = text.charCodeAt(p + k); // NaN past the end: a mismatch
    const b = place.charCodeAt(k);
    // The register is upper case; the text may be `Oslo` or `OSLO`.
    if (a !== b && fold(a, 1, LOWER) !== fold(b, 1, LOWER)) {
      if (k === short && !isLetter(text.charCodeAt(p + k + (a === 32 ? 1 : 0)))) return p + k;
      return -1;
    }
  }
  if (isLetter(text.charCodeAt(p + place.length))) return -1;
  return p + place.length;
}

/** The address span around the house number `text[ns, ne)`, or null. */
export function matchAt(
  t: Tables,
  text: string,
  ns: number,
  ne: number,
  work: Work,
): [number, number] | null {
  // After the number first (a few char reads; most numbers after a word are no house numbers:
  // `kl. 12:30`, `3,5 %`, `2024`): a letter, a range, then maybe the postnummer.
  let e = ne;
  const a = text.charCodeAt(e);
  if (isLetter(a) && !isLetter(text.charCodeAt(e + 1))) e++;
  else if (
    isSpaceChar(a) &&
    isLetter(text.charCodeAt(e + 1)) &&
    !isLetter(text.charCodeAt(e + 2)) &&
    !isDigit(text.charCodeAt(e + 2)) &&
    // `12 B`; a lower-case `12 b` only before a confirmed postnummer (`storgata 5 i oslo`).
    (isUpper(text.charCodeAt(e + 1)) || postcodeAfter(t, text, e + 2) > 0)
  )
    e += 2;
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
    z === 58 /* : */ ||
    // A decimal (`5,5 km`), unless a postnummer and its place follow the comma (`Storgata 5,0155 Oslo`).
    (z === 46 && isDigit(text.charCodeAt(e + 1))) ||
    (z === 44 && isDigit(text.charCodeAt(e + 1)) && postcodeAfter(t, text, e) < 0) ||
    // An ordinal: `Kongens gate 3. etasje`, `Storgata 17. mai` (a sentence end has a capital).
    (z === 46 && isSpaceChar(text.charCodeAt(e + 1)) && isLower(text.charCodeAt(e + 2)))
  )
    return null;
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
  work.steps += we - ws;
  if (we - ws < 2) return null;
  const b = text.charCodeAt(ws - 1);
  if (ws > 0 && (isDigit(b) || isLetter(b))) return null;
  const capital = isUpper(text.charCodeAt(ws));
  const kind = t.streetTable.lookup(text, ws, we);
  if (kind & S_ROAD) return null;
  const suffix = kind ? 0 : suffixOf(t, text, ws, we);
  if (!capital && !kind && !(suffix & SUFFIX_STRONG)) return null;
  // Fields of a CSV row (`Storgata,5,0155,Oslo`): only a street word makes them an address, not any
  // capitalised word before a number and a postnummer (`Kari,35,0155,Oslo`).
  if (isFieldSeparator(text.charCodeAt(we)) && !kind && !(suffix & SUFFIX_STRONG)) return null;

  let postEnd = postcodeAfter(t, text, e);

  // PO boxes: `Postboks 123, 0102 Oslo`, `Postboks 6706 St. Olavs plass, 0130 Oslo`, `PO Box 5`.
  if (kind & S_PO_BOX) {
    let start = ws;
    if (fold(text.charCodeAt(ws), 1, LOWER) === 98 && we - ws === 3) {
      // `box` only as `PO Box` / `P.O. Box`.
      const p = text.slice(Math.max(0, ws - 6), ws).toLowerCase();
      const m = /p\.?\s?o\.?\s$/.exec(p);
      if (!m) return null;
      start = ws - (p.length - m.index);
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
    if (postEnd > 0) return [start, postEnd];
    // Without a postnummer, a `Postboks`/`Pb.` number with its delivery point (`Postboks 8008
    // Dep`, `Postboks 300 Sentrum`): one capitalised word, then punctuation or the end of the text.
    if (
      fold(text.charCodeAt(ws), 1, LOWER) !== 112 /* p */ ||
      !isSpaceChar(text.charCodeAt(e)) ||
      !isUpper(text.charCodeAt(e + 1))
    )
      return null;
    let p = e + 1;
    while (p < e + 21 && isLetter(text.charCodeAt(p))) p++;
    return p - e >= 3 && (p === text.length || PO_BOX_END.includes(text[p]!)) ? [start, p] : null;
  }
  if (unitAfter(text, e)) return null;

  let start = -1;
  let strong = false;
  if (kind & (S_WORD | S_ABBR) && (!capital || postEnd > 0 || namedBefore(t, text, ws))) {
    // `Karl Johans gate 22`: capitalised words before the generic.
    let s = ws;
    let words = 0;
    while (words < 4 && isSpaceChar(text.charCodeAt(s - 1))) {
      const w = capWordBefore(text, s - 1);
      if (w < 0) break;
      s = initialsBefore(text, w);
      words++;
    }
    // Typed in lower case, with a confirmed postnummer: a genitive before the generic, and a
    // registered first name before that (`karl johans gate 22, 0159 oslo`, `kongens gt. 5, …`).
    if (words === 0 && !capital && postEnd > 0) {
      const g = lowerWordBefore(text, ws - 1);
      if (g < 0 || ws - 1 - g < 3 || text.charCodeAt(ws - 2) !== 115 /* s */) return null;
      s = g;
      const f = lowerWordBefore(text, g - 1);
      if (f >= 0) {
        // The register is keyed in title case (rare path: a slice is fine here).
        const w = text.slice(f, g - 1);
        const title = w.charAt(0).toUpperCase() + w.slice(1);
        if (t.wordTable.lookup(title, 0, title.length) & (FIRST | FIRST_EN)) s = f;
      }
      words = 1;
    }
    if (words === 0) return null;
    start = s;
    strong = true;
  } else if (capital) {
    start = ws;
    if (suffix) {
      const flags = t.wordTable.lookup(text, ws, we);
      // `Solbakken` (a surname) and `Vålerenga` (a club) need more than the suffix.
      strong = !(suffix & SUFFIX_WEAK) || !(flags & (FIRST | FIRST_EN | LAST | PLACE | NON_NAME));
    } else if (postEnd < 0) return null;
    // Prefix words: `Øvre Slottsgate`, `Gamle Drammensvei`, `St. Olavs gate`; any capitalised
    // words when a postnummer confirms the address.
    for (let words = 0; words < 3 && isSpaceChar(text.charCodeAt(start - 1)); words++) {
      const w = capWordBefore(text, start - 1);
      if (w < 0) break;
      const prefix =
        t.streetTable.lookup(text, w, start - 1) & S_PREFIX ||
        text.startsWith('St.', w) ||
        text.startsWith('Sankt', w);
      if (!prefix && !(suffix === 0 && postEnd > 0)) break;
      start = w;
    }
  } else {
    // Lower case: `bor i storgata 5`, with an address word before it.
    start = ws;
    strong = addressCueBefore(text, ws);
  }
  if (!strong && postEnd < 0 && !addressCueBefore(text, start)) return null;
  return [start, postEnd > 0 ? postEnd : e];
}

/**
 * Whether a capitalised generic (`Gate`, `Vei`) at `ws` follows a street prefix or a genitive
 * (`Vestre Gate 8`, `Kongens Gate 5`), so it names a street (`Gate 23 på Gardermoen` does not).
 */
function namedBefore(t: Tables, text: string, ws: number): boolean {
  if (!isSpaceChar(text.charCodeAt(ws - 1))) return false;
  const w = capWordBefore(text, ws - 1);
  if (w < 0 || ws - 1 - w < 3) return false;
  return (
    text.charCodeAt(ws - 2) === 115 /* s */ ||
    (t.streetTable.lookup(text, w, ws - 1) & S_PREFIX) !== 0
  );
}

/** A lower-case word ending just before the space at `e`: its start, or -1. */
function lowerWordBefore(text: string, e: number): number {
  if (!isSpaceChar(text.charCodeAt(e))) return -1;
  let i = e;
  while (i > e - 30 && isLower(text.charCodeAt(i - 1))) i--;
  if (i === e || isLetter(text.charCodeAt(i - 1)) || isDigit(text.charCodeAt(i - 1))) return -1;
  return i;
}

/** The start of initials glued before the capitalised word at `w` (`C.J. Hambros plass`). */
function initialsBefore(text: string, w: number): number {
  let s = w;
  while (
    s >= w - 6 &&
    text.charCodeAt(s - 1) === 46 &&
    isUpper(text.charCodeAt(s - 2)) &&
    !isLetter(text.charCodeAt(s - 3))
  )
    s -= 2;
  return s;
}

/** Whether a unit word (`km`, `prosent`, `år`) follows the space at `pos`. */
function unitAfter(text: string, pos: number): boolean {
  if (!isSpaceChar(text.charCodeAt(pos))) return false;
  const s = pos + 1;
  let i = s;
  while (i < s + 12 && isLetter(text.charCodeAt(i))) i++;
  if (i === s || isLetter(text.charCodeAt(i))) return false;
  return UNITS.lookup(text, s, i) !== 0;
}

/** Whether the word before `pos` (past up to three spaces; `c/o`, `adr.`) is an address cue. */
function addressCueBefore(text: string, pos: number): boolean {
  let i = pos;
  while (i > pos - 3 && i > 0 && isSpaceChar(text.charCodeAt(i - 1))) i--;
  if (i === pos) return false;
  const e = i;
  while (
    i > e - 20 &&
    i > 0 &&
    (isLetter(text.charCodeAt(i - 1)) ||
      text.charCodeAt(i - 1) === 47 ||
      text.charCodeAt(i - 1) === 46)
  )
    i--;
  const end = text.charCodeAt(e - 1) === 46 ? e - 1 : e; // `adr.`
  return end > i && ADDRESS_CUES.lookup(text, i, end) !== 0;
}
