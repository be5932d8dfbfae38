/**
 * Person names. No name list covers the people in real text (SSB lists only names with ≥ 200
 * bearers, and half of Norway's surnames are rarer), so a name is found from the registers **and**
 * the text around it:
 *
 * - runs of capitalised words: a first name followed by a surname or another capitalised word
 *   (`Kari Nordmann`, `Jonas Gahr Støre`, `Donald Trump`), initials (`J. K. Rowling`), particles
 *   (`Ludwig van Beethoven`), hyphenated and double first names (`Anne-Lise`, `Per Olav`), the
 *   genitive `-s` (`Støres`), `Last, First`, names in capitals (`KARI NORDMANN`);
 * - evidence around a capitalised word: a title, role or relation before it (`fru`, `dr.`,
 *   `advokat`, `pasient`, `statsminister`, `Høyre-leder`, `Mr`, `customer`, `Hei`, `Mvh`), a verb
 *   of saying (`sier Hansen`, `Hansen sier`, `said Smith`), an age or party after it (`(45)`,
 *   `, 45,`, `(H)`);
 * - a single capitalised surname or first name inside a sentence (`møtte Hansen i går`);
 * - once a name is found, its parts elsewhere in the same text (`Solberg` after `Erna Solberg`).
 *
 * Words that are also everyday words (Dag, Liv, Per, Will, Grace) or places (Lund, Moss) need more
 * than the register: a surname after them, or a cue. Sentence-initial words, function words,
 * months, organisations (a run with `AS`, `Kommune`, `Sykehus` …), places, products and street
 * names (`Karl Johans gate`) are not names. Postal addresses found before (the registry runs
 * `postal_address` first) are skipped.
 *
 * Linear: one pass over the text collects capitalised words; each is looked up once; the reads
 * around a word (previous and next word, an age in brackets) are bounded.
 */
import {
  AMBIGUOUS,
  CUE_BEFORE,
  FIRST,
  FIRST_EN,
  getTables,
  LAST,
  NON_NAME,
  ENGLISH,
  ORG_MARKER,
  PARTICLE,
  PLACE,
  PLACE_PREP,
  SAY,
  STOP,
  type Tables,
} from './data';
import { isDigit, isLetter, isWordChar, work } from './text';
import type { Detection, Detector } from './types';

// Token flags beyond the lexicon's (which use the low 9 bits).
const INITIAL = 1 << 10; // `K.`
const ALLCAPS = 1 << 11; // `NORDMANN`
const GENITIVE = 1 << 12; // `Støres` (the stem is the name)
const START = 1 << 13; // first word of a sentence, line or heading
const ROLE = 1 << 14; // a capitalised title or role (`Statsminister`, `Høyre-leder`, `Dr`)
const HYPHEN_LOWER = 1 << 15; // `Oslo-mann`, `Jong-un`: a hyphenated word with a lower-case part

const NAMEISH = FIRST | FIRST_EN | LAST;
const LEXICAL = 0xff;

/** Upper-case letters that can start a name (ASCII, Latin-1, Latin Extended-A/B). */
function isUpperLetter(c: number): boolean {
  if (c >= 65 && c <= 90) return true;
  if (c < 0xc0) return false;
  if (c <= 0xde) return c !== 0xd7;
  if (c < 0x100 || c > 0x24f) return false;
  const ch = String.fromCharCode(c);
  return ch !== ch.toLowerCase();
}

function isLowerLetter(c: number): boolean {
  return isLetter(c) && !isUpperLetter(c);
}

function isSpaceChar(c: number): boolean {
  return c === 32 || c === 0xa0 || c === 0x202f;
}

/** Characters that may sit between a sentence end and the next word: quotes, brackets, dashes. */
function isOpener(c: number): boolean {
  return (
    c === 32 ||
    c === 9 ||
    c === 0xa0 ||
    c === 34 || // "
    c === 39 || // '
    c === 40 || // (
    c === 91 || // [
    c === 42 || // *
    c === 45 || // -
    c === 0x2013 || // –
    c === 0x2014 || // —
    c === 0xab || // «
    c === 0xbb || // »
    c === 0x201c || // “
    c === 0x201d || // ”
    c === 0x2018 || // ‘
    c === 0x2019 || // ’
    c === 0x2022 || // •
    c === 62 || // >
    c === 35 || // #
    c === 95 // _
  );
}

interface Tokens {
  start: number[];
  end: number[];
  flags: number[];
  key: string[];
  /** Capitalised English function words minus Norwegian ones: > 0 means English text. */
  english: number;
}

function titleCase(s: string): string {
  let out = '';
  let up = true;
  for (const ch of s.toLowerCase()) {
    out += up ? ch.toUpperCase() : ch;
    up = ch === '-';
  }
  return out;
}

/** Lexicon flags of a word, with genitive, hyphen and capitals handling. */
function lookup(t: Tables, word: string, allCaps: boolean): [number, string] {
  const key = allCaps ? titleCase(word) : word;
  const f = t.words.get(key);
  if (f !== undefined) return [f, key];
  // Genitive: `Støres`, `Hansens`, `Kari Nordmanns`.
  const last = key.charCodeAt(key.length - 1);
  if (key.length > 3 && (last === 115 || last === 83)) {
    const stem = key.slice(0, -1);
    const g = t.words.get(stem);
    if (g !== undefined && g & NAMEISH) return [g | GENITIVE, stem];
  }
  const dash = key.indexOf('-');
  if (dash > 0) {
    // `Anne-Lise` (both first names), `Berg-Hansen` (surnames), `Høyre-leder` (a role),
    // `Oslo-mann` (a derived word).
    let all = NAMEISH;
    let firstAll = FIRST | FIRST_EN;
    let lower = false;
    let p = 0;
    let partFlags = 0;
    while (p <= key.length) {
      let q = key.indexOf('-', p);
      if (q < 0) q = key.length;
      const part = key.slice(p, q);
      if (part.length === 0) break;
      if (isLowerLetter(part.charCodeAt(0))) {
        lower = true;
        if (q === key.length && hasRoleSuffix(t, part)) return [ROLE, key];
      }
      const pf = t.words.get(part) ?? 0;
      if (p === 0) partFlags = pf;
      all &= pf & NAMEISH ? NAMEISH : 0;
      firstAll &= pf;
      p = q + 1;
    }
    if (lower) return [HYPHEN_LOWER | (partFlags & (NON_NAME | PLACE)), key];
    if (firstAll & (FIRST | FIRST_EN)) return [firstAll & (FIRST | FIRST_EN), key];
    if (all) return [LAST, key];
    return [0, key];
  }
  return [0, key];
}

function hasRoleSuffix(t: Tables, lower: string): boolean {
  for (const s of t.roleSuffixes) if (lower.endsWith(s)) return true;
  return false;
}

/** Collects the capitalised words of `text` with their flags. */
function collect(text: string, t: Tables): Tokens {
  const start: number[] = [];
  const end: number[] = [];
  const flags: number[] = [];
  const key: string[] = [];
  const n = text.length;
  let i = 0;
  let steps = n;
  let english = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    // Skip to the next upper-case letter (most characters of any text end here).
    while (!((c >= 65 && c <= 90) || (c >= 0xc0 && isUpperLetter(c)))) {
      if (++i >= n) break;
      c = text.charCodeAt(i);
    }
    if (i >= n) break;
    const s = i;
    const prev = text.charCodeAt(s - 1);
    let e = s + 1;
    let upper = 1;
    for (;;) {
      const d = text.charCodeAt(e);
      if (isLetter(d)) {
        if (isUpperLetter(d)) upper++;
        e++;
      } else if ((d === 45 || d === 0x2010) && isLetter(text.charCodeAt(e + 1))) e += 2;
      else if ((d === 39 || d === 0x2019) && e - s === 1 && isUpperLetter(text.charCodeAt(e + 1)))
        e += 2; // O'Brien, D'Angelo
      else break;
      if (e - s > 40) break;
    }
    steps += e - s;
    i = e;
    // Glued to a word, number, path, address or identifier: not a name (`iPhone`, `kari.Nordmann`,
    // `Kari.Nordmann@x.no`, `/Users/Kari`).
    if (isWordChar(prev) || isDigit(text.charCodeAt(e))) continue;
    if (
      (prev === 46 || prev === 64 || prev === 47 || prev === 92) &&
      isWordChar(text.charCodeAt(s - 2))
    )
      continue;
    const next = text.charCodeAt(e);
    if (next === 64 || next === 95 || next === 47) continue;
    if (next === 46 && isWordChar(text.charCodeAt(e + 1))) {
      // `K.` in `J.K. Rowling` is an initial; `Kari.Nordmann` is an identifier.
      if (!(e - s === 1 && isUpperLetter(text.charCodeAt(e + 1)))) continue;
    }
    const len = e - s;
    let f: number;
    let k: string;
    if (len === 1) {
      if (next === 46) {
        f = INITIAL;
        e++; // the period belongs to the initial
        i = e;
      } else f = STOP; // `I`, `A`, a lone letter
      k = text[s]!;
    } else {
      const allCaps = upper === len;
      [f, k] = lookup(t, text.slice(s, e), allCaps);
      if (allCaps) f |= ALLCAPS;
    }
    if (isSentenceStart(text, s)) f |= START;
    if (f & STOP) english += f & ENGLISH ? 1 : -1;
    start.push(s);
    end.push(e);
    flags.push(f);
    key.push(k);
  }
  work.steps += steps;
  return { start, end, flags, key, english };
}

/** Whether the word at `s` starts a sentence, a line, a heading or the text. */
function isSentenceStart(text: string, s: number): boolean {
  let i = s - 1;
  const limit = Math.max(0, s - 12);
  while (i >= limit && isOpener(text.charCodeAt(i))) i--;
  if (i < 0) return true;
  if (i < limit) return false;
  const c = text.charCodeAt(i);
  return (
    c === 46 || c === 33 || c === 63 || c === 58 || c === 59 || c === 10 || c === 13 || c === 0x2026
  );
}

/** The lower-cased word before `pos` (skipping spaces and one `.`, `,` or `:`), or ''. */
function wordBefore(text: string, pos: number): string {
  let i = pos - 1;
  const limit = Math.max(0, pos - 40);
  let punct = 0;
  while (i >= limit) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 0xa0 || c === 10 || c === 13 || c === 9) i--;
    else if ((c === 46 || c === 44 || c === 58) && punct === 0) {
      punct++;
      i--;
    } else break;
  }
  const e = i + 1;
  while (i >= limit && (isLetter(text.charCodeAt(i)) || text.charCodeAt(i) === 45)) i--;
  work.steps += pos - i;
  if (e - (i + 1) > 24) return '';
  return text.slice(i + 1, e).toLowerCase();
}

/** The lower-cased word after `pos` (skipping spaces), or ''. */
function wordAfter(text: string, pos: number): string {
  let i = pos;
  while (i < pos + 3 && isSpaceChar(text.charCodeAt(i))) i++;
  const s = i;
  while (i < s + 16 && isLetter(text.charCodeAt(i))) i++;
  work.steps += i - pos;
  if (i === s || isLetter(text.charCodeAt(i))) return '';
  return text.slice(s, i).toLowerCase();
}

/** `(45)`, `(45 år)`, `, 45,` or a party in brackets `(H)`, `(Ap)` right after a name. */
function ageOrPartyAfter(text: string, pos: number): boolean {
  let i = pos;
  const c = text.charCodeAt(i);
  if (c === 32 && text.charCodeAt(i + 1) === 40) {
    i += 2;
    let d = 0;
    while (d < 3 && isDigit(text.charCodeAt(i))) {
      d++;
      i++;
    }
    if (d > 0) return text.charCodeAt(i) === 41 || text.startsWith(' år)', i);
    let l = 0;
    while (l < 4 && isLetter(text.charCodeAt(i))) {
      l++;
      i++;
    }
    return l > 0 && text.charCodeAt(i) === 41 && isUpperLetter(text.charCodeAt(pos + 2));
  }
  if (c === 44 && text.charCodeAt(i + 1) === 32) {
    i += 2;
    let d = 0;
    while (d < 3 && isDigit(text.charCodeAt(i))) {
      d++;
      i++;
    }
    return d >= 1 && (text.charCodeAt(i) === 44 || text.startsWith(' år', i));
  }
  return false;
}

/** Whether the gap `text[a, b)` joins two capitalised words of one name. */
function joins(text: string, t: Tables, a: number, b: number, prevFlags: number): boolean {
  const gap = b - a;
  if (gap === 1) return isSpaceChar(text.charCodeAt(a));
  if (gap === 0) return (prevFlags & INITIAL) !== 0; // `J.K.`
  if (gap > 12 || !isSpaceChar(text.charCodeAt(a)) || !isSpaceChar(text.charCodeAt(b - 1)))
    return false;
  // ` van `, ` van der `, ` de la `
  let i = a + 1;
  while (i < b - 1) {
    let j = i;
    while (j < b - 1 && isLowerLetter(text.charCodeAt(j))) j++;
    if (j === i || !((t.cues.get(text.slice(i, j)) ?? 0) & PARTICLE)) return false;
    if (!isSpaceChar(text.charCodeAt(j))) return false;
    i = j + 1;
  }
  return true;
}

function cueFlags(t: Tables, word: string): number {
  if (word === '') return 0;
  const f = t.cues.get(word) ?? 0;
  if (f) return f;
  return word.length > 4 && (hasRoleSuffix(t, word) || word.endsWith('årige')) ? CUE_BEFORE : 0;
}

const STREET_AFTER = new Set([
  'gate',
  'gata',
  'vei',
  'veien',
  'veg',
  'vegen',
  'allé',
  'alle',
  'plass',
  'gt',
  'vn',
  'torg',
  'brygge',
  'terrasse',
  'plassen',
]);

/** Appends the person names in `text` to `out`. */
export function scanPersonNames(text: string, out: Detection[]): void {
  const t = getTables();
  const tok = collect(text, t);
  const n = tok.start.length;
  if (n === 0) return;
  const { start, end, flags, key } = tok;
  const english = tok.english > 0;
  // Spans already claimed by postal addresses (found before this detector runs).
  const taken: Array<[number, number]> = [];
  for (const d of out) if (d.type === 'postal_address') taken.push([d.start, d.end]);
  let takenAt = 0;
  const inAddress = (k: number): boolean => {
    while (takenAt < taken.length && taken[takenAt]![1] <= start[k]!) takenAt++;
    return takenAt < taken.length && taken[takenAt]![0] < end[k]!;
  };

  const accepted = new Uint8Array(n); // 1 accepted, 2 part of an organisation/street (never)
  const found: Array<[number, number]> = [];
  const names = new Set<string>();
  const accept = (a: number, b: number) => {
    for (let k = a; k <= b; k++) {
      accepted[k] = 1;
      if (!(flags[k]! & (INITIAL | STOP))) names.add(key[k]!);
    }
    found.push([start[a]!, end[b]!]);
  };

  let k = 0;
  while (k < n) {
    // The chain of capitalised words joined by single spaces (or particles, or initials).
    let c = k;
    while (c + 1 < n && joins(text, t, end[c]!, start[c + 1]!, flags[c]!)) c++;
    work.steps += c - k + 1;
    classifyChain(k, c);
    k = c + 1;
  }

  function classifyChain(a: number, b: number): void {
    // A street (`Karl Johans gate`), an address part, or an organisation: never a person.
    const after = wordAfter(text, end[b]!);
    if (STREET_AFTER.has(after)) return mark(a, b);
    for (let k = a; k <= b; k++) {
      if (
        flags[k]! & ORG_MARKER &&
        !(k > a && flags[k]! & LAST && flags[k - 1]! & (FIRST | FIRST_EN))
      ) {
        return mark(a, b);
      }
    }
    let cue = 0;
    let k = a;
    while (k <= b) {
      const f = flags[k]!;
      if (accepted[k] || inAddress(k)) {
        k++;
        continue;
      }
      if (
        f & ROLE ||
        (f & START && !(f & NAMEISH) && cueFlags(t, key[k]!.toLowerCase()) & CUE_BEFORE)
      ) {
        cue = CUE_BEFORE; // `Statsminister Erna Solberg`, `Advokat Lie`, `Mr Smith`, `Hei Kari`
        k++;
        continue;
      }
      if (f & (STOP | INITIAL) && !(f & INITIAL && k < b)) {
        cue = 0;
        k++;
        continue;
      }
      // The name-like stretch from k.
      let e = k;
      while (e + 1 <= b && e - k < 5 && nameish(flags[e + 1]!) && !inAddress(e + 1)) e++;
      // A trailing place that is no name is not part of it (`Kari Hansen Oslo`).
      while (e > k && flags[e]! & PLACE && !(flags[e]! & NAMEISH)) e--;
      const consumed = decide(k, e, cue, a);
      cue = 0;
      k = consumed + 1;
    }
  }

  /** Whether a word may continue a name (`Are` in `Jon Are Berg` is a first name here). */
  function nameish(f: number): boolean {
    if (f & STOP && !(f & FIRST)) return false;
    if (f & (ORG_MARKER | ROLE | HYPHEN_LOWER)) return false;
    if (f & NON_NAME && !(f & NAMEISH)) return false;
    return true;
  }

  function mark(a: number, b: number): void {
    for (let k = a; k <= b; k++) accepted[k] = 2;
  }

  /** Decides the stretch [k, e] (k's cue given); returns the last token index consumed. */
  function decide(k: number, e: number, cueIn: number, chainStart: number): number {
    const fk = flags[k]!;
    // Initials need a surname or a capitalised word after them.
    let first = k;
    while (first <= e && flags[first]! & INITIAL) first++;
    if (first > e) return e;
    const before = k === chainStart ? cueFlags(t, wordBefore(text, start[k]!)) : cueIn;
    const cue = cueIn | before;
    const nextWord = wordAfter(text, end[e]!);
    const sayAfter =
      (t.cues.get(nextWord) ?? 0) & SAY && nextWord !== 'ifølge' && nextWord !== 'according';
    const ageAfter = ageOrPartyAfter(text, end[e]!);
    const strongCue = (cue & (CUE_BEFORE | SAY)) !== 0 || ageAfter;
    const allCapsRun = (fk & ALLCAPS) !== 0;
    if (allCapsRun) {
      // `KARI NORDMANN`: only a first name and a surname from the registers.
      if (e > k && flags[k]! & (FIRST | FIRST_EN) && flags[e]! & LAST) accept(k, e);
      return e;
    }
    for (let j = k; j <= e; j++) if (flags[j]! & ALLCAPS) return e; // acronyms in the run
    const fFirst = flags[first]!;
    const fLast = flags[e]!;
    const count = e - k + 1;

    if (count >= 2) {
      const lastOk =
        fLast & (LAST | FIRST | FIRST_EN) || (fLast & LEXICAL) === 0 || fLast & GENITIVE;
      const lastStrong = (fLast & LAST) !== 0 && !(fLast & (PLACE | NON_NAME));
      if (fFirst & (FIRST | FIRST_EN) && lastOk && !(fLast & NON_NAME && !(fLast & NAMEISH))) {
        // At a sentence start a name that is also a word needs a surname or a cue: `Per
        // Sandberg` but not `Will Microsoft`, `Grace Period`, `August Bank`.
        const wordLike =
          fFirst & (NON_NAME | PLACE) ||
          (fFirst & AMBIGUOUS && (!(fFirst & FIRST) || english)) ||
          (fFirst & AMBIGUOUS && fLast & (PLACE | NON_NAME));
        if (!wordLike || lastStrong || strongCue || !(fFirst & START)) {
          accept(k, e);
          return e;
        }
        return e;
      }
      // `K. Hansen`, `J. K. Rowling` — but not `oppgang B. Styret` (a sentence ends after `B.`).
      const initialsOk =
        first - k > 1 || fk & START || !/[a-zæøå] $/.test(text.slice(start[k]! - 2, start[k]));
      if (k < first && initialsOk && (lastStrong || (fLast & LEXICAL) === 0)) {
        accept(k, e); // `K. Hansen`, `J.K. Rowling`
        return e;
      }
      let plain = !(fk & PLACE);
      for (let j = k; j <= e; j++)
        if (flags[j]! & NON_NAME && !(flags[j]! & NAMEISH)) plain = false;
      if (plain && (strongCue || (sayAfter && !(fk & START)))) {
        accept(k, e); // `statsminister Gahr Støre`, `sier Gahr Støre`
        return e;
      }
      // An organisation or place run (`Nordea Markets`, `Oslo Børs`): skip to a first name in it.
      if (fk & (NON_NAME | PLACE) && !(fk & NAMEISH)) {
        let j = k + 1;
        while (j <= e && !(flags[j]! & (FIRST | FIRST_EN))) j++;
        return j - 1;
      }
      // Two or more capitalised words without a first name: try a name starting later
      // (`Tidligere statsminister …` is handled by the role; `Oslo Kari Hansen` here).
      return k;
    }

    // A single word.
    const f = fk;
    if (f & (NON_NAME | STOP) && !(f & NAMEISH)) return k;
    if (f & NON_NAME && !(strongCue && f & NAMEISH)) return k;
    if (f & HYPHEN_LOWER) return k;
    // `Nordmann, Kari`: a surname, a comma, first names, then the end of the entry.
    const lf = lastFirst(k);
    if (lf > k) {
      accept(k, lf);
      return lf;
    }
    if (strongCue) {
      if (!(f & PLACE && !(f & NAMEISH) && !ageAfter)) accept(k, k);
      return k;
    }
    // The second word of a proper noun that does not start with a first name (`Helse Nord`).
    if (k > chainStart && !(flags[k - 1]! & (ROLE | STOP | INITIAL))) return k;
    const placePrep = (cueFlags(t, wordBefore(text, start[k]!)) & PLACE_PREP) !== 0;
    if (f & NAMEISH && !(f & PLACE)) {
      const enWord = f & FIRST_EN && !(f & (FIRST | LAST)) && f & AMBIGUOUS;
      if (!(f & START) && !placePrep && !enWord) {
        accept(k, k); // `møtte Hansen i går`
        return k;
      }
      if (sayAfter && !(f & AMBIGUOUS)) {
        accept(k, k); // `Hansen sier at …`
        return k;
      }
    }
    if (sayAfter && !(f & (START | PLACE)) && (f & LEXICAL) === 0) accept(k, k); // `…, mener Putin`
    return k;
  }

  /** `Nordmann, Kari` / `Smith, John`: returns the index of the last first name, or k. */
  function lastFirst(k: number): number {
    const f = flags[k]!;
    if (f & (PLACE | AMBIGUOUS | STOP | NON_NAME | HYPHEN_LOWER | ROLE) || k + 1 >= n) return k;
    const s = end[k]!;
    if (text.charCodeAt(s) !== 44 || !isSpaceChar(text.charCodeAt(s + 1)) || start[k + 1] !== s + 2)
      return k;
    let j = k + 1;
    if (!(flags[j]! & (FIRST | FIRST_EN)) || flags[j]! & (AMBIGUOUS | START)) return k;
    if (j + 1 < n && start[j + 1] === end[j]! + 1 && flags[j + 1]! & FIRST) j++;
    const c = text.charCodeAt(end[j]!);
    const boundary =
      end[j] === text.length ||
      c === 10 ||
      c === 13 ||
      c === 59 ||
      c === 41 ||
      c === 46 ||
      c === 44 ||
      (c === 32 && text.charCodeAt(end[j]! + 1) === 40);
    return boundary ? j : k;
  }

  // Later mentions of a found name's parts: `Solberg` after `Erna Solberg`, `Northugs` after
  // `Petter Northug`.
  if (names.size > 0) {
    const known = (k: number): boolean => {
      const w = key[k]!;
      return names.has(w) || (w.length > 3 && w.endsWith('s') && names.has(w.slice(0, -1)));
    };
    let addr = 0;
    for (let k = 0; k < n; k++) {
      if (accepted[k] || flags[k]! & (STOP | ALLCAPS | INITIAL | ORG_MARKER | ROLE) || !known(k))
        continue;
      while (addr < taken.length && taken[addr]![1] <= start[k]!) addr++;
      if (addr < taken.length && taken[addr]![0] < end[k]!) continue;
      if (flags[k]! & PLACE && cueFlags(t, wordBefore(text, start[k]!)) & PLACE_PREP) continue;
      let e = k;
      while (
        e + 1 < n &&
        !accepted[e + 1] &&
        known(e + 1) &&
        joins(text, t, end[e]!, start[e + 1]!, flags[e]!)
      )
        e++;
      accept(k, e);
      k = e;
    }
    found.sort((x, y) => x[0] - y[0]);
  }
  for (const [s, e] of found) out.push({ type: 'person_name', start: s, end: e });
}

export const personName: Detector = {
  type: 'person_name',
  category: 'personal_data',
  scan: scanPersonNames,
};
