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
 * names (`Karl Johans gate`) are not names. Words inside a postal address (decided first, from the
 * same reading of the text: `names-addresses.ts`) are skipped.
 *
 * Linear: one pass over the text collects capitalised words; each is looked up once; the reads
 * around a word (previous and next word, an age in brackets) are bounded.
 */
import {
  AMBIGUOUS,
  CUE_BEFORE,
  ENGLISH,
  FIRST,
  FIRST_EN,
  fold,
  GREETING,
  HASH_SEED,
  hashStep,
  LAST,
  LOWER,
  NON_NAME,
  ORG_END,
  ORG_MARKER,
  PARTICLE,
  PLACE,
  PLACE_PREP,
  ROLE_END,
  SAY,
  STOP,
  STREET,
  TITLE,
  type Tables,
  WordTable,
} from './data';
import { isDigit, isLetter, isWordChar } from './text';
import type { Detection, Work } from './types';

// Token flags beyond the lexicon's (which use the low 9 bits).
const INITIAL = 1 << 10; // `K.`
const ALLCAPS = 1 << 11; // `NORDMANN`
const GENITIVE = 1 << 12; // `Støres` (the stem is the name)
const START = 1 << 13; // first word of a sentence, line or heading
const ROLE = 1 << 14; // a capitalised title or role (`Høyre-leder`)
const HYPHEN_LOWER = 1 << 15; // `Oslo-mann`, `Jong-un`: a hyphenated word with a lower-case part
// Read while the word is in cache, for the decisions after the pass (which would re-read the text):
const ENDS_S = 1 << 16; // four or more characters ending in `s` (`stem` holds the hash without it)
const LIST_AFTER = 1 << 17; // `, ` or ` (` right after the word (`Nordmann, Kari`, `Moe (45)`)

const NAMEISH = FIRST | FIRST_EN | LAST;
/** {@link hashStep}'s multiplier. */
const FNV_PRIME = 0x01000193;
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
const OPENERS = ' \t\u00a0"\'([*-\u2013\u2014\u00ab\u00bb\u201c\u201d\u2018\u2019\u2022>#_';
/** Punctuation a word may follow directly: line breaks, `,` `;` `:` `.` `!` `?` `/`, and `=`
 *  (`navn=Tor Erik Moe`: a form or query value). */
const PRECEDING_PUNCT = '\n\r,;:.!?/=';

// Per code unit below 256, read once per character where words are collected (a table read
// instead of a chain of comparisons: `isSentenceStart` runs for every capitalised word).
const OPENER = 1;
const PUNCT = 2;
/** Ends a sentence (`isSentenceStart`): `.` `!` `?` `;` and line breaks (and `…`, above 255). */
const SENTENCE_END = 4;
const CHAR_CLASS = new Uint8Array(256);
const classify = (chars: string, bit: number) => {
  for (let k = 0; k < chars.length; k++) {
    const c = chars.charCodeAt(k);
    if (c < 256) CHAR_CLASS[c] = CHAR_CLASS[c]! | bit;
  }
};
classify(OPENERS, OPENER);
classify(PRECEDING_PUNCT, PUNCT);
classify('.!?;\n\r', SENTENCE_END);

/** Whether `c` is one of {@link OPENERS}. */
function isOpener(c: number): boolean {
  if (c < 256) return (CHAR_CLASS[c]! & OPENER) !== 0;
  return (
    c === 0x2013 ||
    c === 0x2014 ||
    c === 0x201c ||
    c === 0x201d ||
    c === 0x2018 ||
    c === 0x2019 ||
    c === 0x2022
  );
}

/**
 * A set of word hashes (open addressing, at most half full). A `Set<number>` boxes the hashes
 * beyond 31 bits, and its lookup was most of the later-mentions loop in a workerd profile.
 */
class HashSet {
  #hashes = new Int32Array(16);
  #used = new Uint8Array(16);
  #size = 0;

  size(): number {
    return this.#size;
  }

  add(h: number): void {
    if (2 * (this.#size + 1) > this.#used.length) {
      const hashes = this.#hashes;
      const used = this.#used;
      this.#hashes = new Int32Array(2 * used.length);
      this.#used = new Uint8Array(2 * used.length);
      this.#size = 0;
      for (let i = 0; i < used.length; i++) if (used[i]) this.add(hashes[i]!);
    }
    const mask = this.#used.length - 1;
    let i = h & mask;
    while (this.#used[i] === 1) {
      if (this.#hashes[i] === h) return;
      i = (i + 1) & mask;
    }
    this.#used[i] = 1;
    this.#hashes[i] = h;
    this.#size++;
  }

  has(h: number): boolean {
    const mask = this.#used.length - 1;
    let i = h & mask;
    while (this.#used[i] === 1) {
      if (this.#hashes[i] === h) return true;
      i = (i + 1) & mask;
    }
    return false;
  }
}

/** The capitalised words of a text, as parallel typed arrays (`n` of them). */
export interface Tokens {
  n: number;
  start: Int32Array;
  end: Int32Array;
  flags: Int32Array;
  /** Title-case folded hash of the word (of its stem for a genitive): names are remembered by it. */
  hash: Int32Array;
  /** With {@link ENDS_S}: the hash of the word without its final `s` (a genitive's stem). */
  stem: Int32Array;
  /** Capitalised English function words minus Norwegian ones: > 0 means English text. */
  english: number;
  /**
   * Possible house numbers, for the address detector: offsets of a digit 1–9 after a capitalised
   * word and a space (`Storgata 5`), or after a capitalised word, a short lower-case word and a
   * space (`Karl Johans gate 22`, `Kongens gt. 2`).
   */
  numbers: number[];
}

/** Flags of a hyphenated word from its parts (`Anne-Lise`, `Berg-Hansen`, `Høyre-leder`). */
function hyphenated(t: Tables, text: string, s: number, e: number): number {
  let all = NAMEISH;
  let firstAll = FIRST | FIRST_EN;
  let lower = false;
  let partFlags = 0;
  let p = s;
  while (p < e) {
    let q = p;
    while (q < e && text.charCodeAt(q) !== 45 && text.charCodeAt(q) !== 0x2010) q++;
    if (q === p) break;
    if (isLowerLetter(text.charCodeAt(p))) {
      if (q === e && roleEnd(t, text, p, q)) return ROLE;
      // `Jong-un`, `Jae-in`: a short lower-case syllable after a name-like part is a given
      // name's (Korean), not a compound's (`Oslo-mann`, `Ap-er` and `Oslo-bo` have a known first part).
      if (
        q === e &&
        q - p <= 3 &&
        !lower &&
        p > s + 2 &&
        !(partFlags & (NON_NAME | PLACE)) &&
        isLowerLetter(text.charCodeAt(s + 1))
      )
        return 0;
      lower = true;
    }
    const pf = t.wordTable.lookup(text, p, q);
    if (p === s) partFlags = pf;
    all &= pf & NAMEISH ? NAMEISH : 0;
    firstAll &= pf;
    p = q + 1;
  }
  if (lower) return HYPHEN_LOWER | (partFlags & (NON_NAME | PLACE));
  if (firstAll & (FIRST | FIRST_EN)) return firstAll & (FIRST | FIRST_EN);
  if (all) return LAST;
  return 0;
}

/**
 * Whether the word `text[s, e)` ends in an institution suffix with at least two letters before
 * it (`Brønnøysundregistrene`, `Finansdepartementet`).
 */
function orgEnd(t: Tables, text: string, s: number, e: number): boolean {
  let h = HASH_SEED;
  for (let i = e - 1; i > s + 1 && i >= e - 13; i--) {
    h = hashStep(h, fold(text.charCodeAt(i), 1, LOWER));
    const f = t.roleSuffixTable.findReversed(h, text, i, e);
    if (f === 0) return false; // no suffix ends this way
    if (e - i >= 5 && f & ORG_END) return true;
  }
  return false;
}

/**
 * Flags of a capitalised word `text[s, e)` the registers lack (`hPrev`: the hash without its last
 * character): a genitive of a registered name (`Støres`, with {@link GENITIVE}), a hyphenated
 * word's, an institution's, or 0.
 */
function unregistered(
  t: Tables,
  text: string,
  s: number,
  e: number,
  hPrev: number,
  dash: boolean,
): number {
  const last = text.charCodeAt(e - 1);
  // Genitive: `Støres`, `Hansens`, `Kari Nordmanns`.
  if (e - s > 3 && (last === 115 || last === 83)) {
    const g = t.wordTable.find(hPrev, text, s, e - 1);
    if (g & NAMEISH) return g | GENITIVE;
  }
  if (dash) return hyphenated(t, text, s, e);
  // `Brønnøysundregistrene bekrefter …`: an institution, not a surname the registers lack.
  if (e - s >= 8 && orgEnd(t, text, s, e)) return NON_NAME;
  return 0;
}

/**
 * A possible house number after a short lower-case word from `w` (`Karl Johans gate 22`,
 * `Kongens gt. 2`): its offset, or -1.
 */
function numberAfterWord(text: string, from: number): number {
  let w = from;
  while (w < from + 9 && isLetter(text.charCodeAt(w))) w++;
  if (text.charCodeAt(w) === 46) w++; // `gt.`
  const g = text.charCodeAt(w + 1);
  return isSpaceChar(text.charCodeAt(w)) && g >= 49 && g <= 57 ? w + 1 : -1;
}

/** Whether the lower-case word `text[s, e)` ends in a role (`kommunikasjonssjef`). */
function roleEnd(t: Tables, text: string, s: number, e: number): boolean {
  let h = HASH_SEED;
  for (let i = e - 1; i > s && i >= e - 12; i--) {
    h = hashStep(h, fold(text.charCodeAt(i), 1, LOWER));
    const f = t.roleSuffixTable.findReversed(h, text, i, e);
    if (f === 0) return false; // no suffix ends this way
    if (e - i >= 3 && f & ROLE_END) return true;
  }
  return false;
}

/**
 * Per code unit below {@link LETTERS}: 0 for a non-letter (`isLetter`), else the letter folded
 * for the hash (`fold(c, 1, TITLE)`), with {@link UPPER_BIT} for a capital — one table read per
 * character of a word instead of the range tests.
 */
const LETTERS = 0x250;
const UPPER_BIT = 0x8000;
const LETTER = new Uint16Array(LETTERS);
for (let c = 0; c < LETTERS; c++)
  if (isLetter(c)) LETTER[c] = fold(c, 1, TITLE) | (isUpperLetter(c) ? UPPER_BIT : 0);

/** An upper-case letter at a word start (made per call: a global regex carries `lastIndex`). */
const WORD_START_CAPITAL = String.raw`(?<![\p{L}\p{N}_])\p{Lu}`;

/** The word-initial capitals of `text` (any script), ascending. */
function regexCapitals(text: string): number[] {
  const re = new RegExp(WORD_START_CAPITAL, 'gu');
  const out: number[] = [];
  // `test` (not `exec`): no match object per capital; the match is the character before lastIndex.
  while (re.test(text)) out.push(re.lastIndex - 1);
  return out;
}

/**
 * Collects the capitalised words of `text` with their flags, in one pass. `capitals`: the
 * word-initial capitals the engine's pass recorded (Latin-1 text), else they are searched here.
 */
export function collect(
  text: string,
  t: Tables,
  work: Work,
  capitals: readonly number[] | null = null,
): Tokens {
  // Without the engine's capitals (text beyond Latin-1), the regex engine finds them faster than
  // a JavaScript loop (no match inside a word: `iPhone`, base64, camelCase).
  const caps = capitals ?? regexCapitals(text);
  // Typed arrays: hashes are not small integers, and plain arrays of them would allocate a number
  // per word. At most one word per capital: one buffer holds the five arrays, never grown (one
  // ArrayBuffer instead of five: less allocation and GC per scan).
  const cap = caps.length + 1;
  const buf = new Int32Array(5 * cap);
  const start = buf.subarray(0, cap);
  const end = buf.subarray(cap, 2 * cap);
  const flags = buf.subarray(2 * cap, 3 * cap);
  const hash = buf.subarray(3 * cap, 4 * cap);
  const stem = buf.subarray(4 * cap, 5 * cap);
  let n = 0;
  const table = t.wordTable;
  let steps = text.length;
  let english = 0;
  const numbers: number[] = [];
  let resume = 0; // where the last word ended: the next one starts there or later
  for (let ci = 0; ci < caps.length; ci++) {
    const s = caps[ci]!;
    if (s < resume) continue;
    const c = text.charCodeAt(s);
    const prev = text.charCodeAt(s - 1);
    // The letters, hashed as they are read (FNV-1a steps written out: workerd does not inline
    // `hashStep` here). A word with `-` or `'` in it, or longer than 40, is read again below.
    let h = Math.imul(HASH_SEED ^ c, FNV_PRIME);
    let hPrev = HASH_SEED;
    let e = s + 1;
    let upper = 1;
    let d = text.charCodeAt(e);
    let w = d < LETTERS ? LETTER[d]! : 0;
    while (w !== 0) {
      upper += w >>> 15; // UPPER_BIT
      hPrev = h;
      h = Math.imul(h ^ (w & ~UPPER_BIT), FNV_PRIME);
      w = (d = text.charCodeAt(++e)) < LETTERS ? LETTER[d]! : 0;
    }
    let dash = false;
    if (e - s > 40 || d === 45 || d === 0x2010 || d === 39 || d === 0x2019) {
      h = Math.imul(HASH_SEED ^ c, FNV_PRIME);
      hPrev = HASH_SEED;
      e = s + 1;
      upper = 1;
      for (;;) {
        d = text.charCodeAt(e);
        w = d < LETTERS ? LETTER[d]! : 0;
        if (w !== 0) {
          if (w & UPPER_BIT) upper++;
          hPrev = h;
          h = Math.imul(h ^ (w & ~UPPER_BIT), FNV_PRIME);
          e++;
        } else if ((d === 45 || d === 0x2010) && isLetter(text.charCodeAt(e + 1))) {
          dash = true;
          hPrev = h;
          h = Math.imul(h ^ d, FNV_PRIME);
          e++;
        } else if (
          (d === 39 || d === 0x2019) &&
          e - s === 1 &&
          isUpperLetter(text.charCodeAt(e + 1))
        ) {
          hPrev = h;
          h = Math.imul(h ^ d, FNV_PRIME);
          e++; // O'Brien, D'Angelo
        } else break;
        if (e - s > 40) break;
      }
    }
    steps += e - s;
    resume = e;
    // Glued to a word, number, path, address or identifier: not a name (`iPhone`, `kari.Nordmann`,
    // `Kari.Nordmann@x.no`, `/Users/Kari`).
    const next = text.charCodeAt(e);
    if (next >= 48 && next <= 57) continue;
    // After anything but a space, a bracket, a quote or punctuation (`%T`, `=Kari`, `$Name`).
    if (s > 0 && (prev < 256 ? CHAR_CLASS[prev] === 0 : !isOpener(prev))) continue;
    if (
      (prev === 46 || prev === 64 || prev === 47 || prev === 92) &&
      isWordChar(text.charCodeAt(s - 2))
    )
      continue;
    if (next === 32 || next === 0xa0) {
      const d = text.charCodeAt(e + 1);
      if (d >= 49 && d <= 57) numbers.push(e + 1);
      else if (d >= 97 && d <= 122) {
        const w = numberAfterWord(text, e + 2);
        if (w > 0) numbers.push(w);
      }
    } else if (next === 46 && text.charCodeAt(e + 1) === 32) {
      // `Storgt. 7`, `Kirkevn. 12`: an abbreviated street suffix.
      const d = text.charCodeAt(e + 2);
      if (d >= 49 && d <= 57) numbers.push(e + 2);
    }
    if (next === 64 || next === 95 || next === 47) continue;
    if (next === 46 && isWordChar(text.charCodeAt(e + 1))) {
      // `K.` in `J.K. Rowling` is an initial; `Kari.Nordmann` is an identifier.
      if (!(e - s === 1 && isUpperLetter(text.charCodeAt(e + 1)))) continue;
    }
    const len = e - s;
    let f: number;
    if (len === 1) {
      if (next === 46) {
        f = INITIAL;
        e++; // the period belongs to the initial
        resume = e;
      } else f = STOP; // `I`, `A`, a lone letter
    } else {
      f = table.find(h, text, s, e);
      if (f === 0) {
        f = unregistered(t, text, s, e, hPrev, dash);
        if (f & GENITIVE) h = hPrev;
      }
      if (upper === len) f |= ALLCAPS;
    }
    // Sentence start ({@link isSentenceStart}), decided inline from the one or two characters
    // before the word in the common cases (`. Kari`, `møtte Kari`, a line break); the loop over
    // openers only for the rest.
    let i = s - 1;
    let b = prev;
    if (b === 32) b = text.charCodeAt(--i);
    if (i < 0 || !(b < 256) || CHAR_CLASS[b]! & OPENER) {
      if (isSentenceStart(text, s)) f |= START;
    } else if (CHAR_CLASS[b]! & SENTENCE_END) {
      // `Dr. Hansen`: only a title's last letter before the `.` sends it to the abbreviation test.
      const last = text.charCodeAt(i - 1);
      if (
        b !== 46 ||
        !(last < LETTERS && TITLE_LAST[LETTER[last]! & ~UPPER_BIT] === 1) ||
        !afterAbbreviation(text, i)
      )
        f |= START;
    }
    if (f & STOP) english += f & ENGLISH ? 1 : -1;
    if (e - s >= 4 && text.charCodeAt(e - 1) === 115) f |= ENDS_S;
    const after = text.charCodeAt(e);
    if (after === 44 || (after === 32 && text.charCodeAt(e + 1) === 40)) f |= LIST_AFTER;
    start[n] = s;
    end[n] = e;
    flags[n] = f;
    hash[n] = h;
    stem[n] = hPrev;
    n++;
  }
  work.steps += steps;
  return { n, start, end, flags, hash, stem, english, numbers };
}

const TITLES = ['dr', 'mr', 'mrs', 'ms', 'prof', 'adv', 'st', 'sr', 'jr', 'fr'];
const TITLE_ABBREVIATIONS = new WordTable(6, LOWER);
/** The last letters of {@link TITLES} (folded): most sentences end in none of them. */
const TITLE_LAST = new Uint8Array(LETTERS);
for (const w of TITLES) {
  TITLE_ABBREVIATIONS.add(w, 1);
  TITLE_LAST[w.charCodeAt(w.length - 1)] = 1;
}

/** Whether the `.` at `dot` ends a title (`Dr.`, `Mr.`, `prof.`) rather than a sentence. */
function afterAbbreviation(text: string, dot: number): boolean {
  const last = text.charCodeAt(dot - 1);
  if (!(last < LETTERS && TITLE_LAST[fold(last, 1, LOWER)] === 1)) return false;
  let i = dot;
  while (i > dot - 5 && i > 0 && isLetter(text.charCodeAt(i - 1))) i--;
  if (i === dot || (i > 0 && isLetter(text.charCodeAt(i - 1)))) return false;
  return TITLE_ABBREVIATIONS.lookup(text, i, dot) !== 0;
}

/** Whether the word at `s` starts a sentence, a line, a heading or the text. */
function isSentenceStart(text: string, s: number): boolean {
  let i = s - 1;
  const limit = Math.max(0, s - 12);
  while (i >= limit && isOpener(text.charCodeAt(i))) i--;
  if (i < 0) return true;
  if (i < limit) return false;
  const c = text.charCodeAt(i);
  // Not `:` — after `Saksbehandler:` or `Notat:` a capitalised word is a name or a noun, and the
  // word before the colon is read as a cue.
  if (c < 256 ? (CHAR_CLASS[c]! & SENTENCE_END) === 0 : c !== 0x2026) return false;
  return c !== 46 || !afterAbbreviation(text, i);
}

/** Cue flags of the lower-cased word `text[s, e)`: a listed cue, or a role ending. */
function cueOf(t: Tables, text: string, s: number, e: number): number {
  if (e - s < 1 || e - s > 24) return 0;
  const f = t.cueTable.lookup(text, s, e);
  if (f) return f;
  if (e - s > 4 && roleEnd(t, text, s, e)) return CUE_BEFORE;
  return 0;
}

/** Cue flags of the word before `pos` (skipping spaces and one `.`, `,`, `:` or `!`). */
function cueBefore(t: Tables, text: string, pos: number, work: Work): number {
  let i = pos - 1;
  const limit = Math.max(0, pos - 40);
  let punct = 0;
  while (i >= limit) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 0xa0 || c === 10 || c === 13 || c === 9) i--;
    else if ((c === 46 || c === 44 || c === 58 || c === 33) && punct === 0) {
      punct++;
      i--;
    } else break;
  }
  const e = i + 1;
  while (i >= limit && (isLetter(text.charCodeAt(i)) || text.charCodeAt(i) === 45)) i--;
  work.steps += pos - i;
  return cueOf(t, text, i + 1, e);
}

/** Cue flags of the word after `pos` (skipping up to two spaces). */
function cueAfter(t: Tables, text: string, pos: number, work: Work): number {
  let i = pos;
  while (i < pos + 3 && isSpaceChar(text.charCodeAt(i))) i++;
  const s = i;
  if (!isLowerLetter(text.charCodeAt(s))) return 0;
  while (i < s + 16 && isLetter(text.charCodeAt(i))) i++;
  work.steps += i - pos;
  if (isLetter(text.charCodeAt(i))) return 0;
  return t.cueTable.lookup(text, s, i);
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

const LIST_COMMA = 1; // `, ` or a dash: a list, of bare surnames only
const LIST_AND = 2; // ` og `, ` and `, ` & `

/** How the gap `text[a, b)` lists another name after one (0: it does not). */
function joinedToName(text: string, a: number, b: number): number {
  const gap = b - a;
  const c = text.charCodeAt(a);
  if (gap === 2) return c === 44 && text.charCodeAt(a + 1) === 32 ? LIST_COMMA : 0;
  if (c !== 32 || text.charCodeAt(b - 1) !== 32) return 0;
  if (gap === 3) {
    const m = text.charCodeAt(a + 1);
    if (m === 38) return LIST_AND;
    return m === 45 || m === 0x2013 || m === 0x2014 ? LIST_COMMA : 0;
  }
  if (gap === 4 && text.startsWith('og', a + 1)) return LIST_AND;
  return gap === 5 && text.startsWith('and', a + 1) ? LIST_AND : 0;
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
    if (j === i || !(t.cueTable.lookup(text, i, j) & PARTICLE)) return false;
    if (!isSpaceChar(text.charCodeAt(j))) return false;
    i = j + 1;
  }
  return true;
}

/**
 * The names among the collected words. `taken`: `[start, end, …]` of the postal addresses found in
 * the same text (ascending); words inside them are not names.
 */
export function scanNames(
  text: string,
  t: Tables,
  tok: Tokens,
  taken: readonly number[],
  out: Detection[],
  work: Work,
): void {
  const n = tok.n;
  if (n === 0) return;
  const { start, end, flags, hash, stem } = tok;
  const english = tok.english > 0;
  let takenAt = 0;
  const inAddress = (k: number): boolean => {
    while (takenAt < taken.length && taken[takenAt + 1]! <= start[k]!) takenAt += 2;
    return takenAt < taken.length && taken[takenAt]! < end[k]!;
  };

  const accepted = new Uint8Array(n); // 1 accepted, 2 part of an organisation/street (never)
  const found: number[] = [];
  const openers: number[] = []; // [first, last] token of unknown runs opening a sentence
  const names = new HashSet(); // hashes of the found names' words
  const accept = (a: number, b: number) => {
    // A street (`Karl Johans gate`) is never a person; checked here, where it matters.
    if (cueAfter(t, text, end[b]!, work) & STREET) return mark(a, b);
    for (let k = a; k <= b; k++) {
      accepted[k] = 1;
      // Remembered for later mentions: surnames and unambiguous first names, not `Will`, `List`.
      // The last word of a longer name is its surname even when the English first-name list has
      // it too (`Powell` after `Jerome Powell`).
      const f = flags[k]!;
      if (
        !(f & (INITIAL | STOP | AMBIGUOUS)) &&
        (f & (LAST | FIRST) || (f & LEXICAL) === 0 || (k === b && k > a))
      )
        names.add(hash[k]!);
    }
    found.push(start[a]!, end[b]!);
  };
  const mark = (a: number, b: number) => {
    for (let k = a; k <= b; k++) accepted[k] = 2;
  };

  /** Whether a word may continue a name (`Are` in `Jon Are Berg` is a first name here). */
  const nameish = (f: number): boolean => {
    if (f & STOP && !(f & FIRST)) return false;
    if (f & (ORG_MARKER | ROLE | HYPHEN_LOWER)) return false;
    if (f & NON_NAME && !(f & NAMEISH)) return false;
    return true;
  };

  /** `Nordmann, Kari` / `Smith, John`: returns the index of the last first name, or k. */
  const lastFirst = (k: number): number => {
    const f = flags[k]!;
    if (f & (STOP | NON_NAME | HYPHEN_LOWER | ROLE) || k + 1 >= n) return k;
    if (f & (PLACE | AMBIGUOUS) && !(f & LAST)) return k; // `Oslo, Kari`; but `Lunde, Henrik`
    if (f & (FIRST | FIRST_EN) && !(f & LAST)) return k; // `Mona, Randi`: two names
    if (cueOf(t, text, start[k]!, end[k]!) & CUE_BEFORE) return k; // `Kona, Randi`: a role
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
  };

  /** Decides the stretch [k, e] (`cueIn`: a role word before it in the run); returns the last
   *  token index consumed. Context is read only when the words alone do not decide. */
  const decide = (k: number, e: number, cueIn: number, chainStart: number): number => {
    const fk = flags[k]!;
    let first = k;
    while (first <= e && flags[first]! & INITIAL) first++;
    if (first > e) return e;
    if (fk & ALLCAPS) {
      // `NATO Secretary General Mark Rutte`: an acronym before ordinary words is no part of them
      // when a name follows (`MIT License (MIT)` has none).
      if (e > k && !(flags[k + 1]! & ALLCAPS)) {
        for (let j = k + 1; j <= e; j++) if (flags[j]! & NAMEISH) return k;
      }
      // `KARI NORDMANN`: only a first name and a surname from the registers.
      if (e > k && fk & (FIRST | FIRST_EN) && flags[e]! & LAST && flags[e]! & ALLCAPS) accept(k, e);
      return e;
    }
    for (let j = k; j <= e; j++) if (flags[j]! & ALLCAPS) return e; // acronyms in the run
    // Context is read lazily, inline (no closures: this runs for every capitalised word).
    let before = -1; // cue flags of the word before the stretch
    const fFirst = flags[first]!;
    const fLast = flags[e]!;

    if (e > k) {
      const lastOk =
        fLast & (LAST | FIRST | FIRST_EN) ||
        (fLast & LEXICAL) === 0 ||
        fLast & GENITIVE ||
        (e === k + 1 && fLast & PLACE); // `Ivar Odnes`: kept by the trim in classifyChain
      const lastStrong = (fLast & LAST) !== 0 && !(fLast & (PLACE | NON_NAME));
      if (
        fFirst & (FIRST | FIRST_EN) &&
        lastOk &&
        !(fLast & NON_NAME && !(fLast & NAMEISH)) &&
        // A genitive ends a name; of a word-like first name it is a word (`Says Tariffs`).
        !(fFirst & GENITIVE && fFirst & AMBIGUOUS)
      ) {
        // At a sentence start a name that is also a word needs a surname or a cue: `Per
        // Sandberg` but not `Will Microsoft`, `Grace Period`, `August Bank`.
        const wordLike =
          fFirst & (NON_NAME | PLACE) ||
          (fFirst & AMBIGUOUS && (!(fFirst & FIRST) || english)) ||
          (fFirst & AMBIGUOUS && fLast & (PLACE | NON_NAME));
        if (
          !wordLike ||
          !(fFirst & START) ||
          lastStrong ||
          ((before < 0
            ? (before = k === chainStart ? cueBefore(t, text, start[k]!, work) : 0)
            : before) |
            cueIn) &
            (CUE_BEFORE | SAY) ||
          ageOrPartyAfter(text, end[e]!)
        )
          accept(k, e);
        return e;
      }
      // `K. Hansen`, `J. K. Rowling` — but not `oppgang B. Styret` (a sentence ends after `B.`).
      if (k < first && (fLast & LAST || (fLast & LEXICAL) === 0)) {
        const p = text.charCodeAt(start[k]! - 2);
        if (
          fLast & LAST ||
          first - k > 1 ||
          fk & START ||
          !(text.charCodeAt(start[k]! - 1) === 32 && isLowerLetter(p))
        ) {
          accept(k, e);
          return e;
        }
      }
      // An organisation or place run (`Nordea Markets`, `Oslo Børs`): skip to a first name in it.
      if (fk & (NON_NAME | PLACE) && !(fk & NAMEISH)) {
        let j = k + 1;
        while (j <= e && !(flags[j]! & (FIRST | FIRST_EN))) j++;
        return j - 1;
      }
      let plain = true;
      for (let j = k; j <= e; j++)
        if (flags[j]! & NON_NAME && !(flags[j]! & NAMEISH)) plain = false;
      // A title or an organisation before a first name is no part of the name (`General Mark
      // Rutte`, `Sør-Øst-direktør Terje Rootwelt`): decide from there.
      // One word only: `Luiz Inácio Lula da Silva` has two unregistered given names before one.
      if (e > k + 1 && flags[k + 1]! & (FIRST | FIRST_EN) && !(fk & LAST)) return k;
      if (
        plain &&
        (((before < 0
          ? (before = k === chainStart ? cueBefore(t, text, start[k]!, work) : 0)
          : before) |
          cueIn) &
          (CUE_BEFORE | SAY) ||
          ageOrPartyAfter(text, end[e]!) ||
          (!(fk & START) && (cueAfter(t, text, end[e]!, work) & SAY) !== 0))
      ) {
        accept(k, e); // `statsminister Gahr Støre`, `sier Gahr Støre`
        return e;
      }
      // Two or more capitalised words without a first name: try a name starting later. Two or
      // three unknown words opening a sentence are kept: a later mention of the last alone makes
      // them a name (below).
      // (Then a lower-case word, the verb: `Outside Docker, change …` is an instruction.)
      if (
        fk & START &&
        !english && // English capitalises noun phrases opening a sentence (`Plain JavaScript objects`)
        e - k <= 2 &&
        text.charCodeAt(end[e]!) === 32 &&
        isLowerLetter(text.charCodeAt(end[e]! + 1))
      ) {
        let unknown = true;
        for (let j = k; j <= e; j++)
          if (flags[j]! & (LEXICAL | ALLCAPS | GENITIVE)) unknown = false;
        if (unknown) openers.push(k, e);
      }
      return k;
    }

    // A single word.
    const f = fk;
    if (f & (NON_NAME | STOP | HYPHEN_LOWER) && !(f & NAMEISH)) return k;
    // `Nordmann, Kari`: a surname, a comma, first names, then the end of the entry.
    const lf = lastFirst(k);
    if (lf > k) {
      accept(k, lf);
      return lf;
    }
    if ((f & LEXICAL) === 0 && f & START) {
      // An unknown word at a sentence start: only an age or party makes it a name (`Nakamura (31)`).
      if (ageOrPartyAfter(text, end[e]!)) accept(k, k);
      return k;
    }
    if (f & NON_NAME) {
      if (cueIn || ageOrPartyAfter(text, end[e]!)) accept(k, k);
      return k;
    }
    const cue =
      (before < 0
        ? (before = k === chainStart ? cueBefore(t, text, start[k]!, work) : 0)
        : before) | cueIn;
    if (cue & (CUE_BEFORE | SAY) || ageOrPartyAfter(text, end[e]!)) {
      // A cue across a sentence end (`Hei!\nPakken kom …`) only confirms a registered name.
      const across = f & START && !(cueIn & CUE_BEFORE) && !(f & NAMEISH);
      // `said Article 5`, `said City manager Pep Guardiola`: a thing's name, or the team of a role.
      if (!(f & (FIRST | FIRST_EN)) && !(cueIn & CUE_BEFORE)) {
        const a = end[e]!;
        if (isSpaceChar(text.charCodeAt(a)) && isDigit(text.charCodeAt(a + 1)) && !(f & NAMEISH))
          return k;
        if (cueAfter(t, text, a, work) & CUE_BEFORE) return k;
      }
      if (!across && !(f & PLACE && !(f & NAMEISH))) accept(k, k);
      return k;
    }
    // The second word of a proper noun that does not start with a first name (`Helse Nord`).
    if (k > chainStart && !(flags[k - 1]! & (ROLE | STOP | INITIAL))) return k;
    if (f & NAMEISH && !(f & PLACE)) {
      const enWord = f & FIRST_EN && !(f & (FIRST | LAST)) && f & AMBIGUOUS;
      if (!(f & START) && !(cue & PLACE_PREP) && !enWord) {
        accept(k, k); // `møtte Hansen i går`
        return k;
      }
      if (
        !(f & AMBIGUOUS) &&
        !(cue & PLACE_PREP) && // `analytiker i Pareto tror`: a firm
        (cueAfter(t, text, end[e]!, work) & SAY) !== 0
      ) {
        accept(k, k); // `Hansen sier at …`
        return k;
      }
      // A registered surname opening a sentence, then a lower-case word: `Haaland er tilbake`.
      if (
        f & LAST &&
        !(f & (AMBIGUOUS | FIRST | FIRST_EN | STOP)) &&
        isSpaceChar(text.charCodeAt(end[e]!)) &&
        isLowerLetter(text.charCodeAt(end[e]! + 1))
      ) {
        accept(k, k);
        return k;
      }
    }
    if (
      !(f & (START | PLACE)) &&
      (f & LEXICAL) === 0 &&
      (cueAfter(t, text, end[e]!, work) & SAY) !== 0 &&
      !(cue & PLACE_PREP) && // `analytiker i Pareto tror`
      // Not after `<Name> <number> ` (`Sparebank 1 Markets mener`): part of a thing's name.
      !(isSpaceChar(text.charCodeAt(start[k]! - 1)) && isDigit(text.charCodeAt(start[k]! - 2)))
    )
      accept(k, k); // `…, mener Putin`
    return k;
  };

  const classifyChain = (a: number, b: number): void => {
    // A saint's name is a place's, an order's or a church's (`St. Olavs Orden`, `Sankt Hans`).
    const sa = start[a]!;
    if (
      text.charCodeAt(sa - 1) === 32 &&
      (text.startsWith('St.', sa - 4) || text.startsWith('Sankt', sa - 6))
    )
      return mark(a, b);
    // An organisation (`Hansen Bygg AS`) is never a person.
    for (let k = a; k <= b; k++) {
      if (
        flags[k]! & ORG_MARKER &&
        !(k > a && flags[k]! & LAST && flags[k - 1]! & (FIRST | FIRST_EN))
      )
        return mark(a, b);
    }
    let cue = 0;
    let k = a;
    while (k <= b) {
      const f = flags[k]!;
      if (accepted[k] || inAddress(k)) {
        k++;
        continue;
      }
      let cf = 0;
      if (
        f & ROLE ||
        (k < b &&
          (!(f & NAMEISH) || f & AMBIGUOUS) &&
          (cf = cueOf(t, text, start[k]!, end[k]!)) & CUE_BEFORE &&
          (f & START || !(cf & GREETING)))
      ) {
        // `Statsminister Erna Solberg`, `Advokat Lie`, `Mr Smith`, `Hei Kari`, and capitalised
        // inside a sentence: `Chief Executive Elon Musk`, `Kong Harald`.
        cue = CUE_BEFORE;
        k++;
        continue;
      }
      if (f & (STOP | INITIAL) && !(f & INITIAL && k < b) && !(f & FIRST && k < b)) {
        cue = 0;
        k++;
        continue;
      }
      // The name-like stretch from k.
      let e = k;
      while (e + 1 <= b && e - k < 5 && nameish(flags[e + 1]!) && !inAddress(e + 1)) e++;
      // A trailing place that is no name is not part of it (`Kari Hansen Oslo`); after a lone
      // registered first name it is a surname (`Ivar Odnes`: farm names are both).
      while (
        e > k &&
        flags[e]! & PLACE &&
        !(flags[e]! & NAMEISH) &&
        (e > k + 1 ||
          flags[k]! & (AMBIGUOUS | NON_NAME | PLACE) ||
          !(flags[k]! & FIRST) ||
          flags[e]! & NON_NAME)
      )
        e--;
      const consumed = decide(k, e, cue, a);
      cue = 0;
      k = consumed + 1;
    }
  };

  let k = 0;
  while (k < n) {
    // The chain of capitalised words joined by single spaces (or particles, or initials).
    let c = k;
    // (Most capitalised words are far apart: the gap is tested here, before a call.)
    while (
      c + 1 < n &&
      start[c + 1]! - end[c]! <= 12 &&
      joins(text, t, end[c]!, start[c + 1]!, flags[c]!)
    )
      c++;
    work.steps += c - k + 1;
    if (c > k) classifyChain(k, c);
    else {
      // A lone word that opens a sentence, and that `classifyChain` would find nothing in: no
      // registered name, organisation marker or role, and either a word of the registers (`The`,
      // `Kunden`, `Bergen`) or an unknown word without `, ` (`Nordmann, Kari`) or ` (` (`Nakamura
      // (31)`) after it. Most capitalised words are these; they skip reading their context.
      const f = flags[k]!;
      const alone =
        (f & (START | NAMEISH | ORG_MARKER | ROLE)) === START &&
        ((f & LEXICAL) !== 0 || (f & LIST_AFTER) === 0);
      if (!alone) classifyChain(k, k);
    }
    k = c + 1;
  }

  // Unknown words opening a sentence (`Elon Musk varsler …`, `Hadia Tajik er …`) are a name when
  // their last word comes again alone (`Musk vil …`, `sier Tajik`): news gives the full name once,
  // then the surname. An organisation is rarely named by its last word alone (clubs are, and
  // `City`, `Villa` … are in the lexicon).
  if (openers.length > 0) {
    const lasts = new HashSet();
    for (let i = 0; i < openers.length; i += 2) lasts.add(hash[openers[i + 1]!]!);
    const seen = new HashSet();
    for (let k = 0; k < n; k++) {
      const h = hash[k]!;
      if (!lasts.has(h) || flags[k]! & ALLCAPS) continue;
      // Alone: not joined to a capitalised word before or after it.
      if (k > 0 && start[k]! - end[k - 1]! === 1) continue;
      if (k + 1 < n && start[k + 1]! - end[k]! === 1) continue;
      seen.add(h);
    }
    let at = 0; // into `taken` (openers are in text order)
    for (let i = 0; i < openers.length; i += 2) {
      const a = openers[i]!;
      const b = openers[i + 1]!;
      while (at < taken.length && taken[at + 1]! <= start[a]!) at += 2;
      if (at < taken.length && taken[at]! < end[b]!) continue;
      if (!accepted[a] && !accepted[b] && seen.has(hash[b]!)) accept(a, b);
    }
  }

  // Later mentions of a found name's parts: `Solberg` after `Erna Solberg`, `Northugs` after
  // `Petter Northug`.
  if (names.size() > 0) {
    const known = (k: number): boolean => {
      if (names.has(hash[k]!)) return true;
      // A genitive of a name not in the registers: the word without its `s`.
      return (flags[k]! & ENDS_S) !== 0 && names.has(stem[k]!);
    };
    let addr = 0;
    for (let k = 0; k < n; k++) {
      if (accepted[k] || flags[k]! & (STOP | ALLCAPS | INITIAL | ORG_MARKER | ROLE) || !known(k))
        continue;
      while (addr < taken.length && taken[addr + 1]! <= start[k]!) addr += 2;
      if (addr < taken.length && taken[addr]! < end[k]!) continue;
      if (flags[k]! & PLACE && cueBefore(t, text, start[k]!, work) & PLACE_PREP) continue;
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
  }
  // A name joined to a found one (`Xi og Putin`, `Max Manus og Gregers Gram`, team sheets
  // `Nyland – Ryerson, Ajer, Østigård`): one to three capitalised words, none of them a word of
  // the lexicon other than a name, after ` og `, ` and ` or ` & `, or after a bare surname and
  // `, ` or a dash (`Jackson Hole, Wyoming` and `Kari Nordmann, Storgata 5` are no lists).
  const never =
    STOP | NON_NAME | PLACE | AMBIGUOUS | ORG_MARKER | ROLE | HYPHEN_LOWER | ALLCAPS | START;
  // Backwards, a registered name listed before a found one, also opening a sentence (`Kari, Jon
  // og Turid`; `Per og Kari` needs more: `Per` is a word).
  const notRegistered = never & ~START;
  let addrBack = taken.length - 2;
  for (let k = n - 2; k >= 0; k--) {
    const f = flags[k]!;
    if (
      accepted[k] ||
      accepted[k + 1] !== 1 ||
      !(f & (FIRST | LAST)) ||
      f & notRegistered ||
      (k > 0 && start[k]! - end[k - 1]! === 1) ||
      joinedToName(text, end[k]!, start[k + 1]!) === 0
    )
      continue;
    while (addrBack >= 0 && taken[addrBack]! >= end[k]!) addrBack -= 2;
    if (addrBack >= 0 && taken[addrBack + 1]! > start[k]!) continue;
    accept(k, k);
  }
  let addrAt = 0;
  for (let k = 1; k < n; k++) {
    if (accepted[k] || accepted[k - 1] !== 1) continue;
    const joined = joinedToName(text, end[k - 1]!, start[k]!);
    if (
      joined === 0 ||
      (joined === LIST_COMMA &&
        k >= 2 &&
        accepted[k - 2] === 1 &&
        start[k - 1]! - end[k - 2]! === 1)
    )
      continue;
    let e = k;
    while (
      !(flags[e]! & never) &&
      e + 1 < n &&
      e - k < 2 &&
      !accepted[e + 1] &&
      joins(text, t, end[e]!, start[e + 1]!, flags[e]!)
    )
      e++;
    if (flags[e]! & never) continue;
    // A title is no name (`Kong Harald og Dronning Sonja`).
    if (cueOf(t, text, start[k]!, end[k]!) & CUE_BEFORE) continue;
    // In English text only registered names (`Isaac Z. Schlueter and Contributors`); never an
    // identifier (`RedirectHandler, RetryHandler`).
    let plain = true;
    for (let j = k; j <= e && plain; j++) {
      if (english && !(flags[j]! & NAMEISH)) plain = false;
      for (let i = start[j]! + 2; i < end[j]! && plain; i++)
        if (isUpperLetter(text.charCodeAt(i)) && isLowerLetter(text.charCodeAt(i - 1)))
          plain = false;
    }
    if (!plain) continue;
    while (addrAt < taken.length && taken[addrAt + 1]! <= start[k]!) addrAt += 2;
    if (addrAt < taken.length && taken[addrAt]! < end[e]!) continue;
    accept(k, e);
    k = e;
  }

  const spans: Detection[] = [];
  for (let i = 0; i < found.length; i += 2)
    spans.push({ type: 'person_name', start: found[i]!, end: found[i + 1]! });
  spans.sort((x, y) => x.start - y.start);
  for (const d of spans) out.push(d);
}
