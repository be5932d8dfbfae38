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

export interface Tables {
  /** Capitalised word → flags. */
  readonly words: Map<string, number>;
  /** Lower-case word → cue flags. */
  readonly cues: Map<string, number>;
  readonly roleSuffixes: readonly string[];
  /** Postnummer → poststed (upper case, as in the register), or undefined. */
  readonly postal: readonly (string | undefined)[];
  readonly poBox: Uint8Array;
  readonly streetWords: ReadonlySet<string>;
  readonly streetSuffixes: readonly string[];
  readonly streetAbbreviations: ReadonlySet<string>;
  readonly streetPrefixes: ReadonlySet<string>;
}

let tables: Tables | null = null;

function titleCase(s: string): string {
  // `MO I RANA` → `Mo I Rana`, `AUST-TORPA` → `Aust-Torpa`
  return s
    .toLowerCase()
    .replace(/(^|[\s-])(\p{L})/gu, (_, b: string, c: string) => b + c.toUpperCase());
}

/** The tables (built on the first call; about a millisecond). */
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
  cue(L.SAY_VERBS, SAY);
  cue(L.PLACE_PREPOSITIONS, PLACE_PREP);
  cue(L.PARTICLES, PARTICLE);
  tables = {
    words,
    cues,
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
