/**
 * Lookup tables for the person-name and postal-address detectors, decoded once per isolate on
 * first use from the generated gazetteer (`gazetteer.ts`) and the hand-written lists
 * (`lexicon.ts`).
 */
import * as G from './gazetteer';
import * as L from './lexicon';

/** Flags of a capitalised word (keys are written as in text: `Kari`, `Anne-Lise`, `Oslo`). */
export const FIRST = 1; // Norwegian first name (SSB)
export const FIRST_EN = 2; // English first name (Moby)
export const LAST = 4; // Norwegian surname (SSB)
export const AMBIGUOUS = 8; // also an everyday word or a month (Per, Dag, Will, August)
export const PLACE = 16; // poststed, municipality, country, city, region
export const NON_NAME = 32; // organisation, product, month, nationality: never a person alone
export const STOP = 64; // function word at a sentence start (Det, Jeg, The)
export const ORG_MARKER = 128; // AS, ASA, Kommune, Sykehus …: the run is an organisation or place
export const ENGLISH = 256; // an English function word (counts towards the text's language)

/** Flags of a lower-case word around a name. */
export const CUE_BEFORE = 1;
export const SAY = 2;
export const PLACE_PREP = 4;
export const PARTICLE = 8;
export const STREET = 16; // a street generic after a name: `Karl Johans gate`
export const ROLE_END = 32;
/** An institution suffix (`-direktoratet`, `-registrene`): the word is an organisation. */
export const ORG_END = 64;
/**
 * In the reversed suffix tables (`roleSuffixTable`, `suffixTable`): a longer suffix continues
 * this one. Every proper prefix of a reversed suffix is in its table (with this bit, or its own
 * flags too), so a scanner reading a word backwards stops at the first miss.
 */
export const MORE = 128;
/** A greeting or sign-off (`Hei`, `Mvh`, `Hello`): a cue only where a sentence or line starts. */
export const GREETING = 256;

/** Flags of a lower-cased word before a house number (`streetTable`). */
export const S_WORD = 1; // gate, vei, allé …
export const S_ABBR = 2; // gt., vn.
export const S_PO_BOX = 4; // postboks, boks, pb
export const S_ROAD = 8; // riksvei, fylkesvei …: roads known by number
export const S_PREFIX = 16; // øvre, nedre, gamle …
/** Flags of a street suffix (`suffixTable`, reversed). */
export const SUFFIX_STRONG = 1; // -veien, -gata
export const SUFFIX_WEAK = 2; // -bakken, -haugen: also surnames and places

/** Case folding of a word for lookups: `TITLE` keeps the first character (`KARI` → `Kari`). */
export const TITLE = 0;
export const LOWER = 1;

/** The folded char code at position `pos` of a word. */
export function fold(c: number, pos: number, mode: number): number {
  if (mode === TITLE && pos === 0) return c;
  if ((c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0xde && c !== 0xd7)) return c + 32;
  return c;
}

export const HASH_SEED = 0x811c9dc5;
/** FNV-1a step: scanners hash a word as they read it, so a lookup allocates nothing. */
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}

/** `fold(c, 1, ·)` for c ≤ U+00DE (every character above is its own fold): one table read. */
const FOLD = new Uint16Array(0xdf);
for (let c = 0; c < 0xdf; c++) FOLD[c] = fold(c, 1, LOWER);

/**
 * A hash table from words to flags, looked up with a hash the scanner computed and the word's
 * position in the text (verified char by char, so a hash collision never matches).
 */
export class WordTable {
  readonly #mask: number;
  /** Per slot `[hash, key number (0: empty)]`, side by side: a probe reads one cache line. */
  readonly #cells: Int32Array;
  /** Per key number k ≥ 1, at `3 * k`: offset of its folded characters in `#chars`, length, flags. */
  #keys = new Int32Array(3 * 16);
  #chars = new Uint16Array(64);
  #count = 1;
  #used = 0;
  constructor(
    bits: number,
    readonly mode: number,
  ) {
    this.#mask = (1 << bits) - 1;
    this.#cells = new Int32Array(2 << bits);
  }

  add(word: string, flag: number): void {
    let h = HASH_SEED;
    let key = '';
    for (let i = 0; i < word.length; i++) {
      const c = fold(word.charCodeAt(i), i, this.mode);
      h = hashStep(h, c);
      key += String.fromCharCode(c);
    }
    let i = h & this.#mask;
    while (this.#cells[2 * i + 1] !== 0) {
      const k = this.#cells[2 * i + 1]!;
      if (this.#cells[2 * i] === h && this.#isKey(k, key)) {
        this.#keys[3 * k + 2]! |= flag;
        return;
      }
      i = (i + 1) & this.#mask;
    }
    const k = this.#count++;
    if (3 * k + 3 > this.#keys.length) {
      const keys = new Int32Array(2 * this.#keys.length);
      keys.set(this.#keys);
      this.#keys = keys;
    }
    if (this.#used + key.length > this.#chars.length) {
      const chars = new Uint16Array(2 * (this.#used + key.length));
      chars.set(this.#chars);
      this.#chars = chars;
    }
    for (let j = 0; j < key.length; j++) this.#chars[this.#used + j] = key.charCodeAt(j);
    this.#keys[3 * k] = this.#used;
    this.#keys[3 * k + 1] = key.length;
    this.#keys[3 * k + 2] = flag;
    this.#used += key.length;
    this.#cells[2 * i] = h;
    this.#cells[2 * i + 1] = k;
  }

  /** Whether key number `k` is the folded `key`. */
  #isKey(k: number, key: string): boolean {
    if (this.#keys[3 * k + 1] !== key.length) return false;
    const off = this.#keys[3 * k]!;
    for (let j = 0; j < key.length; j++)
      if (this.#chars[off + j] !== key.charCodeAt(j)) return false;
    return true;
  }

  /** Flags of `text[s, e)` whose folded hash is `h` (0 when absent). */
  find(h: number, text: string, s: number, e: number): number {
    const cells = this.#cells;
    const mask = this.#mask;
    let i = h & mask;
    for (let k = cells[2 * i + 1]!; k !== 0; k = cells[2 * i + 1]!) {
      if (cells[2 * i] === h) {
        const keys = this.#keys;
        if (keys[3 * k + 1] === e - s) {
          const chars = this.#chars;
          const off = keys[3 * k]!;
          const len = e - s;
          let j = 0;
          // TITLE keeps the first character as it is (`Kari`, not `kari`).
          if (this.mode === TITLE && len > 0) j = chars[off] === text.charCodeAt(s) ? 1 : len + 1;
          for (; j < len; j++) {
            const c = text.charCodeAt(s + j);
            if (chars[off + j] !== (c < 0xdf ? FOLD[c]! : c)) break;
          }
          if (j === len) return keys[3 * k + 2]!;
        }
      }
      i = (i + 1) & mask;
    }
    return 0;
  }

  /** Flags of `text[s, e)` read backwards (`h` hashed from `e - 1` down to `s`). */
  findReversed(h: number, text: string, s: number, e: number): number {
    const cells = this.#cells;
    const mask = this.#mask;
    let i = h & mask;
    for (let k = cells[2 * i + 1]!; k !== 0; k = cells[2 * i + 1]!) {
      if (cells[2 * i] === h) {
        const keys = this.#keys;
        if (keys[3 * k + 1] === e - s) {
          const chars = this.#chars;
          const off = keys[3 * k]!;
          const len = e - s;
          let j = 0;
          // TITLE keeps the first character as it is (`Kari`, not `kari`).
          if (this.mode === TITLE && len > 0)
            j = chars[off] === text.charCodeAt(e - 1) ? 1 : len + 1;
          for (; j < len; j++) {
            const c = text.charCodeAt(e - 1 - j);
            if (chars[off + j] !== (c < 0xdf ? FOLD[c]! : c)) break;
          }
          if (j === len) return keys[3 * k + 2]!;
        }
      }
      i = (i + 1) & mask;
    }
    return 0;
  }

  /** Flags of `text[s, e)` (hashing it here). */
  lookup(text: string, s: number, e: number): number {
    let h = HASH_SEED;
    if (s < e && this.mode === TITLE) h = hashStep(h, text.charCodeAt(s));
    for (let i = this.mode === TITLE ? s + 1 : s; i < e; i++) {
      const c = text.charCodeAt(i);
      h = Math.imul(h ^ (c < 0xdf ? FOLD[c]! : c), 0x01000193);
    }
    return this.find(h, text, s, e);
  }
}

export interface Tables {
  /** Capitalised word → flags. */
  readonly words: Map<string, number>;
  /** The same, for scanners: title-case folded (`KARI` finds `Kari`). */
  readonly wordTable: WordTable;
  /** Lower-case word → cue flags. */
  readonly cues: Map<string, number>;
  readonly cueTable: WordTable;
  /** Role endings, reversed (`leder` → `redel`), lower case: read a word backwards to match. */
  readonly roleSuffixTable: WordTable;
  readonly roleSuffixes: readonly string[];
  /** Lower-case words before a house number. */
  readonly streetTable: WordTable;
  /** Street suffixes and abbreviated suffixes, reversed (`veien` → `neiev`, `gt.` → `.tg`). */
  readonly suffixTable: WordTable;
  /** Postnummer → poststed (upper case, as in the register), or undefined. */
  readonly postal: readonly (string | undefined)[];
  readonly poBox: Uint8Array;
  readonly streetWords: ReadonlySet<string>;
  readonly streetSuffixes: readonly string[];
  readonly streetAbbreviations: ReadonlySet<string>;
  readonly streetPrefixes: ReadonlySet<string>;
}

let tables: Tables | null = null;

/** Adds `suffix` reversed with `flag`, and each proper prefix of the reversal with {@link MORE}. */
function addReversed(table: WordTable, suffix: string, flag: number): void {
  const r = [...suffix].reverse().join('');
  table.add(r, flag);
  for (let k = 1; k < r.length; k++) table.add(r.slice(0, k), MORE);
}

function titleCase(s: string): string {
  // `MO I RANA` → `Mo I Rana`, `AUST-TORPA` → `Aust-Torpa`
  return s
    .toLowerCase()
    .replace(/(^|[\s-])(\p{L})/gu, (_, b: string, c: string) => b + c.toUpperCase());
}

/** The tables, built on the first call: once per isolate, ≈ 40–60 ms (docs/detectors.md#cost). */
export function getTables(): Tables {
  if (tables) return tables;
  const words = new Map<string, number>();
  const add = (list: Iterable<string>, flag: number) => {
    for (const w of list) if (w) words.set(w, (words.get(w) ?? 0) | flag);
  };
  add(G.FIRST_NO.split('|'), FIRST);
  add(G.FIRST_EN.split('|'), FIRST_EN);
  add(G.FIRST_EN_WORD.split('|'), FIRST_EN | AMBIGUOUS);
  add(G.LAST_NO.split('|'), LAST);
  add(G.AMBIGUOUS_NO.split('|'), AMBIGUOUS);
  add(L.AMBIGUOUS_EXTRA, AMBIGUOUS);
  add(L.STOP_WORDS_NO, STOP);
  add(L.STOP_WORDS_EN, STOP | ENGLISH);
  add(L.ORG_MARKERS, ORG_MARKER);
  const postal: (string | undefined)[] = new Array(10000);
  const poBox = new Uint8Array(10000);
  const places: string[] = [];
  for (const entry of G.POSTAL.split('|')) {
    const colon = entry.indexOf(':');
    const place = entry.slice(0, colon);
    places.push(place);
    let code = 0;
    for (const d of entry.slice(colon + 1).split(',')) {
      const box = d.charCodeAt(0) === 42; // *
      code += parseInt(box ? d.slice(1) : d, 36);
      postal[code] = place;
      if (box) poBox[code] = 1;
    }
  }
  // A place or a never-a-name word keeps its name flags (Lund, Moss, Lena, August): the detector
  // then asks for more evidence than the register alone.
  add(places.map(titleCase), PLACE);
  // The parts of multi-word places: `Mo` of `Mo i Rana`, `Kristiansand` of `Kristiansand S`.
  for (const p of places)
    if (p.includes(' '))
      add(
        titleCase(p)
          .split(' ')
          .filter((w) => w.length > 1),
        PLACE,
      );
  add(G.MUNICIPALITIES.split('|').map(titleCase), PLACE);
  add(L.NON_NAMES, NON_NAME);
  const cues = new Map<string, number>();
  const cue = (list: readonly string[], flag: number) => {
    for (const w of list) cues.set(w, (cues.get(w) ?? 0) | flag);
  };
  cue(L.CUE_BEFORE, CUE_BEFORE);
  cue(L.GREETINGS, GREETING);
  cue(L.SAY_VERBS, SAY);
  cue(L.PLACE_PREPOSITIONS, PLACE_PREP);
  cue(L.PARTICLES, PARTICLE);
  cue(
    [
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
    ],
    STREET,
  );
  const wordTable = new WordTable(16, TITLE);
  for (const [w, f] of words) if (!w.includes(' ')) wordTable.add(w, f);
  const cueTable = new WordTable(12, LOWER);
  for (const [w, f] of cues) cueTable.add(w, f);
  const roleSuffixTable = new WordTable(11, LOWER);
  for (const r of [...L.ROLE_SUFFIXES]) addReversed(roleSuffixTable, r, ROLE_END);
  for (const r of [...L.ORG_SUFFIXES]) addReversed(roleSuffixTable, r, ORG_END);
  const streetTable = new WordTable(10, LOWER);
  for (const w of G.STREET_WORDS.split('|')) streetTable.add(w, S_WORD);
  for (const w of G.STREET_ABBREVIATIONS.split('|')) streetTable.add(w, S_ABBR);
  for (const w of G.STREET_PREFIXES.split('|')) streetTable.add(w, S_PREFIX);
  for (const w of L.PO_BOX_WORDS) streetTable.add(w, S_PO_BOX);
  for (const w of L.ROADS) streetTable.add(w, S_ROAD);
  const suffixTable = new WordTable(11, LOWER);
  const weak = new Set(L.WEAK_STREET_SUFFIXES);
  for (const w of G.STREET_SUFFIXES.split('|'))
    addReversed(suffixTable, w, weak.has(w) ? SUFFIX_WEAK : SUFFIX_STRONG);
  for (const w of G.STREET_ABBREVIATIONS.split('|'))
    if (w.length >= 3 && w.endsWith('.')) addReversed(suffixTable, w, SUFFIX_STRONG);
  tables = {
    streetTable,
    suffixTable,
    words,
    wordTable,
    cues,
    cueTable,
    roleSuffixTable,
    roleSuffixes: L.ROLE_SUFFIXES,
    postal,
    poBox,
    streetWords: new Set(G.STREET_WORDS.split('|')),
    streetSuffixes: G.STREET_SUFFIXES.split('|'),
    streetAbbreviations: new Set(G.STREET_ABBREVIATIONS.split('|')),
    streetPrefixes: new Set(G.STREET_PREFIXES.split('|')),
  };
  return tables;
}
