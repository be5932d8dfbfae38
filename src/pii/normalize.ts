/**
 * The normalisation layer in front of every detector. Text that hides personal data from a
 * pattern — `0101001\u200B2356`, `4111\u20091111\u20091111\u20091111`, `０１０１００１２３５６`,
 * `kari＠example.no`, `٠١٠١٠٠١٢٣٥٦` — reads to the detectors as plain ASCII digits, spaces and
 * `@`, and an offset map takes every finding back to the original text.
 *
 * Per cluster (a code point and the combining marks after it):
 * - NFKC (full-width and other compatibility forms, ligatures, super/subscripts, composed
 *   accents), then
 * - default-ignorable and format characters (`\p{DI}`, `\p{Cf}`: ZWSP, ZWNJ, ZWJ, soft hyphen,
 *   BOM, word joiner, bidi controls, variation selectors, tag characters, …) are dropped,
 * - Unicode spaces (no-break, thin, figure, narrow no-break, ideographic, …) become ` `, line and
 *   paragraph separators `\n`,
 * - decimal digits of any script (`\p{Nd}`: Arabic-Indic, Devanagari, …) become ASCII digits,
 * - dashes (`\p{Dash}`: hyphen, non-breaking hyphen, en dash, minus, …) become `-`,
 * - combining marks on a digit or `@` are dropped (a struck-through number is still a number).
 *
 * Fast path: ASCII and Latin-1 text without the few Latin-1 characters NFKC changes (no-break
 * space, soft hyphen, `²`, `µ`, `½` …) is returned as is after one native regex test, and most
 * other text only pays at the characters that change.
 */

import type { Work } from './types';

/** Any code unit outside ASCII controls/printables and the Latin-1 letters: look closer. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the controls are in the class on purpose (they pass as is)
const MAYBE = /[^\u0000-\u009F\u00C0-\u00FF]/;

/**
 * Characters that may change: NFKC (a subset of Changes_When_NFKC_Casefolded), non-ASCII
 * digits, spaces and dashes, marks, default-ignorables and format characters. A node test checks
 * for every code point that NFKC changes nothing outside this class.
 */
const SPECIAL = new RegExp(
  '[[\\p{Changes_When_NFKC_Casefolded}\\p{Nd}\\p{White_Space}\\p{Dash}\\p{M}' +
    '\\p{Default_Ignorable_Code_Point}\\p{Cf}]--[\\x00-\\x9F\\xC0-\\xFF]]',
  'v',
);
/** Unicode spaces that become one ASCII space each (same length: offsets unchanged). */
const SPACES = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/;
const MARK = /^\p{M}$/u;
const DROP = /^[\p{Default_Ignorable_Code_Point}\p{Cf}]$/u;
const DIGIT = /^\p{Nd}$/u;
const SPACE = /^\p{White_Space}$/u;
const DASH = /^\p{Dash}$/u;

/** Maps offsets in the normalised text back to the original. */
export interface OffsetMap {
  /** Original offset of the character at normalised offset `i`. */
  start(i: number): number;
  /** Original end offset (exclusive) for a span ending at normalised offset `i` (exclusive). */
  end(i: number): number;
}

export interface Normalized {
  readonly text: string;
  /** null when every offset is unchanged (nothing changed, or only same-length replacements). */
  readonly map: OffsetMap | null;
}

/** The common single code units, answered without NFKC or regexes (built once, then read-only). */
const COMMON: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  const set = (from: number, to: number, rep: string) => {
    for (let c = from; c <= to; c++) m.set(c, rep);
  };
  set(0xa0, 0xa0, ' '); // no-break space
  set(0x2000, 0x200a, ' '); // en quad … hair space (incl. figure and thin space)
  set(0x202f, 0x202f, ' '); // narrow no-break space
  set(0x205f, 0x205f, ' '); // medium mathematical space
  set(0x3000, 0x3000, ' '); // ideographic space
  set(0xad, 0xad, ''); // soft hyphen
  set(0x200b, 0x200f, ''); // ZWSP, ZWNJ, ZWJ, LRM, RLM
  set(0x202a, 0x202e, ''); // bidi embeddings and overrides
  set(0x2060, 0x2064, ''); // word joiner, invisible operators
  set(0x2066, 0x2069, ''); // bidi isolates
  set(0xfeff, 0xfeff, ''); // BOM / zero-width no-break space
  set(0x2010, 0x2015, '-'); // hyphen … horizontal bar
  set(0x2212, 0x2212, '-'); // minus sign
  for (let d = 0; d <= 9; d++) m.set(0xff10 + d, String(d)); // full-width digits
  m.set(0xff20, '@'); // full-width commercial at
  return m;
})();

/** Value of a decimal digit of any script: digits come in runs of ten starting at zero. */
function digitValue(cp: number): number {
  let n = 0;
  while (n < 100 && DIGIT.test(String.fromCodePoint(cp - n - 1))) n++;
  return n % 10;
}

/** The replacement for one cluster (a code point and the marks after it). */
function normalizeCluster(cluster: string): string {
  if (cluster.length === 1) {
    const hit = COMMON.get(cluster.charCodeAt(0));
    if (hit !== undefined) return hit;
  }
  let out = '';
  let bare = false; // the last kept character is a digit or `@`: marks on it are dropped
  for (const ch of cluster.normalize('NFKC')) {
    const c = ch.charCodeAt(0);
    if (c < 0x80) {
      out += ch;
      bare = (c >= 48 && c <= 57) || c === 64;
    } else if (DROP.test(ch)) {
      // dropped
    } else if (MARK.test(ch)) {
      if (!bare) out += ch;
    } else if (DIGIT.test(ch)) {
      out += String.fromCharCode(48 + digitValue(ch.codePointAt(0)!));
      bare = true;
    } else if (SPACE.test(ch)) {
      out += c === 0x2028 || c === 0x2029 || c === 0x85 ? '\n' : ' ';
      bare = false;
    } else if (DASH.test(ch)) {
      out += '-';
      bare = false;
    } else {
      out += ch;
      bare = false;
    }
  }
  return out;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** End of the code point starting at `i`. */
function cpEnd(text: string, i: number): number {
  return isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? i + 2 : i + 1;
}

/** Start of the code point ending at `i` (exclusive). */
function cpStart(text: string, i: number): number {
  return isLow(text.charCodeAt(i - 1)) && isHigh(text.charCodeAt(i - 2)) ? i - 2 : i - 1;
}

function isMarkAt(text: string, i: number): boolean {
  return MARK.test(text.slice(i, cpEnd(text, i)));
}

/**
 * Pieces of the normalised text, in order. A copy piece maps `len` units one to one; a cluster
 * piece maps all of its output to the whole original cluster. Dropped clusters leave no piece.
 */
class PieceMap implements OffsetMap {
  readonly #norm: number[] = [];
  readonly #orig: number[] = [];
  readonly #origEnd: number[] = [];
  /** Copy pieces map one to one; cluster pieces map all their output to [orig, origEnd). */
  readonly #copy: boolean[] = [];

  add(norm: number, orig: number, origEnd: number, copy: boolean): void {
    const k = this.#norm.length - 1;
    // Merge a copy with the copy before it when they are contiguous on both sides.
    if (
      copy &&
      k >= 0 &&
      this.#copy[k] &&
      this.#origEnd[k] === orig &&
      norm - this.#norm[k]! === orig - this.#orig[k]!
    ) {
      this.#origEnd[k] = origEnd;
      return;
    }
    this.#norm.push(norm);
    this.#orig.push(orig);
    this.#origEnd.push(origEnd);
    this.#copy.push(copy);
  }

  /** The last piece starting at or before normalised offset `i`. */
  #piece(i: number): number {
    let lo = 0;
    let hi = this.#norm.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#norm[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  start(i: number): number {
    const k = this.#piece(i);
    return this.#copy[k] ? this.#orig[k]! + (i - this.#norm[k]!) : this.#orig[k]!;
  }

  end(i: number): number {
    const k = this.#piece(i - 1);
    return this.#copy[k] ? this.#orig[k]! + (i - this.#norm[k]!) : this.#origEnd[k]!;
  }
}

/**
 * Normalises `text` for the detectors (see the module comment). `work` receives the characters
 * examined: the text once for the fast-path test, again when it has to look closer, plus each
 * cluster and what it became.
 */
export function normalize(original: string, work: Work = { steps: 0 }): Normalized {
  work.steps += original.length;
  if (!MAYBE.test(original)) return { text: original, map: null };
  // Unicode spaces are by far the most common case (word processors write no-break spaces):
  // one native replace, offsets unchanged, and often nothing else is left to do.
  work.steps += 2 * original.length;
  const text = SPACES.test(original)
    ? original.replace(new RegExp(SPACES.source, 'g'), ' ')
    : original;
  if (text !== original && !MAYBE.test(text)) return { text, map: null };
  work.steps += text.length;
  const map = new PieceMap();
  let out = '';
  let copied = 0; // original offset up to which text is emitted
  let sameOffsets = true;
  // A global regex carries its position (lastIndex): one per call, no state between scans
  // (V8 caches the compiled pattern by source and flags).
  const special = new RegExp(SPECIAL.source, 'gv');
  for (let m = special.exec(text); m !== null; m = special.exec(text)) {
    let cs = m.index;
    if (cs < copied) continue; // a mark already taken into the cluster before it
    // A mark belongs to the character before it: re-normalise them together.
    if (cs > copied && isMarkAt(text, cs)) cs = cpStart(text, cs);
    let ce = cpEnd(text, cs);
    while (ce < text.length && isMarkAt(text, ce)) ce = cpEnd(text, ce);
    const cluster = text.slice(cs, ce);
    const rep = normalizeCluster(cluster);
    work.steps += cluster.length + rep.length;
    if (rep === cluster) {
      special.lastIndex = ce;
      continue;
    }
    if (cs > copied) {
      map.add(out.length, copied, cs, true);
      out += text.slice(copied, cs);
    }
    if (rep.length > 0) {
      // A same-length replacement keeps offsets one to one (no-break space → space, `１` → `1`).
      const same = rep.length === ce - cs;
      map.add(out.length, cs, ce, same);
      out += rep;
      if (!same) sameOffsets = false;
    } else sameOffsets = false;
    copied = ce;
    special.lastIndex = ce;
  }
  if (copied === 0) return { text, map: null }; // `text`: spaces may have been replaced
  if (copied < text.length) {
    map.add(out.length, copied, text.length, true);
    out += text.slice(copied);
  }
  return { text: out, map: sameOffsets ? null : map };
}
