/**
 * The one pass over the (normalised) text. Every detector starts from something this pass
 * records, so the text is walked once per scan, not once per detector:
 * - digit groups for the numeric detectors (fødselsnummer, kontonummer, organisasjonsnummer,
 *   payment card, phone, IPv4) and IBAN starts;
 * - the positions of the anchors the registered detectors declare (`@`, `:`, `=`, `_`, `eyJ`,
 *   `-----BEGIN `, key prefixes …), from a table built once from the registry.
 *
 * A group is a run of digit chunks joined by one kind of separator (space, `.` or `-`), e.g.
 * `912 34 567`, `1234.56.78903`, `4111-1111-1111-1111`, `192.168.0.1`. After a `+` (E.164)
 * spaces, `-` and `.` may be mixed. Groups of 8–24 digits (and four-part dotted groups, IPv4
 * candidates) are kept; longer space-separated runs are kept as runs, whose whole-chunk sub-runs
 * the engine offers on a second pass.
 */
import { isAsciiAlnum, isDigit, isHex, isLetter, isUpper, isWordChar } from './text';
import type { Anchor, Detection, NumberGroup, ScanContext, SubRun, Work } from './types';

/** Fewest digits in a group a numeric detector looks at (IPv4 groups aside). */
const MIN_DIGITS = 8;
/** Longer groups are no identifier we know (cards top out at 19, E.164 at 15). */
const MAX_DIGITS = 24;
/** Sub-runs: at most this many chunks and 8–19 digits. */
const MAX_SUB_CHUNKS = 5;
const MAX_SUB_DIGITS = 19;
/** Class of the characters that send raw text to normalisation (see {@link tokenize}). */
const SPECIAL = 255;
/** Class of the Latin-1 capitals no anchor uses, when the pass records word-initial capitals. */
const CAPITAL = 254;
/** Latin-1 capitals: `A`–`Z`, `À`–`Ö`, `Ø`–`Þ` (`\p{Lu}` below U+0100). */
const IS_CAPITAL = new Uint8Array(256);
/** Characters that glue a capital to the word before it: `[\p{L}\p{N}_]` below U+0100. */
const GLUES = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/\p{Lu}/u.test(ch)) IS_CAPITAL[c] = 1;
  if (/[\p{L}\p{N}_]/u.test(ch)) GLUES[c] = 1;
}
/** Code units beyond Latin-1: normalised text with them gets no capitals from the pass. */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/** Anchors of the registered detectors, as a lookup table for the pass. */
export interface AnchorTable {
  /**
   * Per UTF-16 code unit: 0 nothing, 1 digit, {@link SPECIAL} for U+00A0–U+00BF and everything
   * above U+00FF (characters normalisation may change), k ≥ 2: the anchors in `byClass[k - 2]`.
   * All 65,536 entries, so the pass reads a class without a range test per character (the pass
   * alone measured 1.0–1.6 ms per MB faster in workerd without it).
   */
  readonly cls: Uint8Array;
  readonly byClass: readonly (readonly number[])[];
  /** `cls` for normalised text: U+00A0–U+00BF and above U+00FF are plain characters there. */
  readonly normalizedCls: Uint8Array;
  /** Per class: the one anchor without prefixes that is all the class holds, else -1. */
  readonly plain: Int16Array;
  /**
   * Per class whose anchors all have prefixes: the offset (+1 or -1) of a neighbour character
   * every prefix fixes, else 0; `allow[cls * 256 + c]` says whether `c` may stand there. Most
   * stops at a common letter (`x` of `xox`, `A` of `AKIA`) end at this one lookup.
   */
  readonly probe: Int8Array;
  readonly allow: Uint8Array;
  readonly anchors: readonly Anchor[];
  readonly ids: ReadonlyMap<Anchor, number>;
  /** Whether the pass records word-initial capitals ({@link ScanContext.capitals}). */
  readonly capitals: boolean;
}

/** `capitals`: a registered detector reads {@link ScanContext.capitals}. */
export function anchorTable(anchors: Iterable<Anchor>, capitals = false): AnchorTable {
  const list: Anchor[] = [];
  const ids = new Map<Anchor, number>();
  for (const a of anchors) {
    if (ids.has(a)) continue;
    ids.set(a, list.length);
    list.push(a);
  }
  const cls = new Uint8Array(0x10000);
  for (let c = 48; c <= 57; c++) cls[c] = 1;
  cls.fill(SPECIAL, 0xa0, 0xc0);
  cls.fill(SPECIAL, 0x100);
  const byClass: number[][] = [];
  const classOf = new Map<number, number>();
  for (const [id, a] of list.entries()) {
    for (let k = 0; k < a.chars.length; k++) {
      const c = a.chars.charCodeAt(k);
      if (c >= 256 || isDigit(c) || cls[c] === SPECIAL) {
        throw new Error(
          `anchor char U+${c.toString(16)}: not a digit, not U+00A0–U+00BF, below U+0100`,
        );
      }
      let k2 = classOf.get(c);
      if (k2 === undefined) {
        k2 = byClass.length + 2;
        if (k2 >= CAPITAL) throw new Error('too many anchor chars');
        classOf.set(c, k2);
        byClass.push([]);
        cls[c] = k2;
      }
      const ids2 = byClass[k2 - 2]!;
      if (!ids2.includes(id)) ids2.push(id);
    }
  }
  if (capitals) for (let c = 0; c < 256; c++) if (IS_CAPITAL[c] && cls[c] === 0) cls[c] = CAPITAL;
  const normalizedCls = cls.slice();
  normalizedCls.fill(0, 0xa0, 0xc0);
  normalizedCls.fill(0, 0x100);
  const plain = new Int16Array(256).fill(-1);
  const probe = new Int8Array(256);
  const allow = new Uint8Array(256 * 256);
  byClass.forEach((ids2, k) => {
    const c = k + 2;
    if (ids2.length === 1 && !list[ids2[0]!]!.prefixes) plain[c] = ids2[0]!;
    // The stop character sits at index -offset of each prefix; find a neighbour all fix.
    const prefixes = ids2.flatMap((id) => {
      const a = list[id]!;
      return a.prefixes ? a.prefixes.map((p) => [p, -(a.offset ?? 0)] as const) : [null];
    });
    if (prefixes.includes(null)) return;
    for (const d of [1, -1]) {
      const near = prefixes.map((x) => x![0].charCodeAt(x![1] + d));
      if (near.some((v) => !(v >= 0 && v < 256))) continue;
      probe[c] = d;
      for (const v of near) allow[c * 256 + v] = 1;
      return;
    }
  });
  return { cls, normalizedCls, byClass, plain, probe, allow, anchors: list, ids, capitals };
}

/** A maximal space-separated group of several chunks: its sub-runs are second-pass candidates. */
interface Run {
  readonly offs: readonly number[];
  readonly lens: readonly number[];
  readonly plus: boolean;
  readonly sep: number;
}

const NONE: readonly number[] = [];

/** The result of the pass: the context every detector receives. */
export class TextIndex implements ScanContext {
  readonly groups: readonly NumberGroup[];
  readonly ibanStarts: readonly number[];
  readonly capitals: readonly number[] | null;
  readonly postcodes: readonly number[] | null;
  readonly work: Work;
  readonly #runs: readonly Run[];
  readonly #positions: readonly (readonly number[])[];
  readonly #table: AnchorTable;
  readonly #text: string;

  constructor(
    text: string,
    groups: readonly NumberGroup[],
    ibanStarts: readonly number[],
    runs: readonly Run[],
    positions: readonly (readonly number[])[],
    capitals: readonly number[] | null,
    postcodes: readonly number[] | null,
    table: AnchorTable,
    work: Work,
  ) {
    this.#text = text;
    this.groups = groups;
    this.ibanStarts = ibanStarts;
    this.capitals = capitals;
    this.postcodes = postcodes;
    this.#runs = runs;
    this.#positions = positions;
    this.#table = table;
    this.work = work;
  }

  positions(anchor: Anchor): readonly number[] {
    const id = this.#table.ids.get(anchor);
    return id === undefined ? NONE : this.#positions[id]!;
  }

  /**
   * The second-pass context: sub-runs of whole chunks (8–19 digits, at most five chunks) of the
   * multi-chunk groups that no detection in `found` (sorted by start) overlaps; no anchors, no
   * IBAN starts.
   */
  subRuns(found: readonly Detection[]): ScanContext | null {
    const groups: NumberGroup[] = [];
    // Runs are disjoint and ascending: one sweep over the detections, keeping the largest end
    // of those that start before the run ends.
    let p = 0;
    let maxEnd = -1;
    for (const r of this.#runs) {
      const k = r.lens.length;
      const start = r.offs[0]!;
      const end = r.offs[k - 1]! + r.lens[k - 1]!;
      while (p < found.length && found[p]!.start < end) maxEnd = Math.max(maxEnd, found[p++]!.end);
      if (maxEnd > start || thousands(r.lens)) continue;
      this.work.steps += k;
      for (let i = 0; i < k; i++) {
        let digits = 0;
        let long = false;
        for (let j = i; j < k && j - i < MAX_SUB_CHUNKS; j++) {
          digits += r.lens[j]!;
          long ||= r.lens[j]! >= 5;
          if (digits > MAX_SUB_DIGITS) break;
          if (digits < MIN_DIGITS || (i === 0 && j === k - 1)) continue;
          // Layouts of short chunks (`912 34 567`, `4111 1111 1111 1111`, `923 609 016`) only
          // at the start: inside a list of short numbers they are an accident of spacing.
          if (i > 0 && !long) continue;
          groups.push(subGroup(this.#text, r, i, j + 1));
        }
      }
    }
    if (groups.length === 0) return null;
    return {
      groups,
      ibanStarts: NONE,
      capitals: null,
      postcodes: null,
      positions: () => NONE,
      work: this.work,
    };
  }
}

/** `1 234 567 890`: an amount written with thousands groups, not identifiers side by side. */
function thousands(lens: readonly number[]): boolean {
  if (lens[0]! > 3) return false;
  for (let i = 1; i < lens.length; i++) if (lens[i] !== 3) return false;
  return true;
}

function subGroup(text: string, r: Run, i: number, j: number): NumberGroup {
  let digits = '';
  for (let m = i; m < j; m++) digits += text.slice(r.offs[m]!, r.offs[m]! + r.lens[m]!);
  const sub: SubRun = { first: i === 0, nextLen: j < r.lens.length ? r.lens[j]! : 0 };
  return {
    start: r.offs[i]!,
    end: r.offs[j - 1]! + r.lens[j - 1]!,
    sep: j - i === 1 ? 0 : r.sep,
    lens: r.lens.slice(i, j),
    digits,
    plus: r.plus && i === 0,
    sub,
  };
}

function isGroupSep(c: number): boolean {
  return c === 32 || c === 46 || c === 45;
}

/**
 * Walks `text` once (see the module comment). With `raw` set the text has not been normalised:
 * the walk gives up (null) at the first character normalisation may change (outside ASCII and
 * the Latin-1 letters), so text that needs no normalisation pays nothing for the check.
 */
export function tokenize(
  text: string,
  table: AnchorTable,
  work: Work,
  raw: boolean,
): TextIndex | null {
  const groups: NumberGroup[] = [];
  const runs: Run[] = [];
  const ibanStarts: number[] = [];
  const positions: number[][] = table.anchors.map(() => []);
  const { byClass, anchors, plain, probe, allow } = table;
  // Raw text stops at U+00A0–U+00BF and above U+00FF; normalised text skips them.
  const CLASS = raw ? table.cls : table.normalizedCls;
  // Word-initial capitals (`Kari`, not the `P` of `iPhone`): raw text that passes is Latin-1;
  // normalised text only when it has nothing beyond (else the names detector finds them itself).
  const capitals: number[] | null =
    table.capitals && (raw || !BEYOND_LATIN1.test(text)) ? [] : null;
  // Possible postnummer (four digits after a space, comma, semicolon or line break), for the address
  // detector's lower-case addresses (`storgata 5, 0155 oslo`): noted here, where digits are read anyway.
  const postcodes: number[] | null = table.capitals ? [] : null;
  const n = text.length;
  let steps = n;
  let ibanEnd = -1;
  let i = 0;
  while (i < n) {
    // Tight skip over characters no detector starts from (most of any prose).
    let c = text.charCodeAt(i);
    let cls = CLASS[c]!;
    while (cls === 0) {
      if (++i >= n) break;
      c = text.charCodeAt(i);
      cls = CLASS[c]!;
    }
    if (i >= n) break;
    // Raw text with a character normalisation may change: the caller normalises and rescans.
    if (cls === SPECIAL) return null;
    if (cls === CAPITAL) {
      if (capitals && (i === 0 || GLUES[text.charCodeAt(i - 1)] === 0)) capitals.push(i);
      i++;
      continue;
    }
    if (cls !== 1) {
      // A capital that is also an anchor character (`A` of `AKIA`, `J`, `B`).
      if (capitals && IS_CAPITAL[c] === 1 && (i === 0 || GLUES[text.charCodeAt(i - 1)] === 0))
        capitals.push(i);
      const only = plain[cls]!;
      const d = probe[cls]!;
      if (only >= 0) positions[only]!.push(i);
      else if (d !== 0 && allow[(cls << 8) | (text.charCodeAt(i + d) & 0xff)] === 0) {
        // The neighbour rules out every prefix of this stop character.
      } else {
        for (const id of byClass[cls - 2]!) {
          const { prefixes, offset = 0 } = anchors[id]!;
          if (!prefixes) positions[id]!.push(i);
          else {
            const p = i + offset;
            for (const prefix of prefixes) {
              if (startsAt(text, p, prefix)) {
                positions[id]!.push(p);
                break;
              }
            }
          }
        }
      }
      i++;
      continue;
    }
    const start = i;
    let j = i + 1;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    steps += j - i;
    const prev = text.charCodeAt(start - 1);
    if (isLetter(prev) || isDigit(prev) || start < ibanEnd) {
      // Glued to a word (`abc123`): not a number on its own, but maybe an IBAN (`NO93…`).
      // (`_` does not glue: `fnr_01010012356` is an identifier with a number in it.)
      if (
        j - start >= 2 &&
        isUpper(prev) &&
        isUpper(text.charCodeAt(start - 2)) &&
        !isWordChar(text.charCodeAt(start - 3))
      ) {
        ibanStarts.push(start - 2);
        // Digits inside an IBAN-shaped token are no phone or card number, valid IBAN or not.
        ibanEnd = ibanShapeEnd(text, start - 2);
        steps += IBAN_SHAPE_READ;
      }
      i = j;
      continue;
    }
    if (
      postcodes &&
      j - start === 4 &&
      (prev === 32 ||
        prev === 44 ||
        prev === 59 ||
        prev === 10 ||
        prev === 13 ||
        prev === 9 ||
        prev === 0xa0)
    )
      postcodes.push(start);
    const plus = prev === 43 && !isWordChar(text.charCodeAt(start - 2));
    // Chunk starts and lengths, only once there is a second chunk: most digit runs are one short
    // chunk (`2025`, `14`) that no detector keeps, and allocate nothing.
    let offs: number[] | null = null;
    let lens: number[] | null = null;
    let digitCount = j - start;
    let sep = 0;
    let end = j;
    // Extend over `sep digits` while the separator stays the same (or anything after `+`).
    while (end < n) {
      const s = text.charCodeAt(end);
      if (!isGroupSep(s) || !isDigit(text.charCodeAt(end + 1))) break;
      if (sep !== 0 && sep !== s) {
        if (!plus) break;
        sep = -1;
      } else if (sep === 0) sep = s;
      let k = end + 1;
      while (k < n && isDigit(text.charCodeAt(k))) k++;
      steps += k - end;
      // A chunk glued to letters on its right (`567abc`) ends the group before it.
      if (isLetter(text.charCodeAt(k))) break;
      (offs ??= [start]).push(end + 1);
      (lens ??= [j - start]).push(k - end - 1);
      digitCount += k - end - 1;
      end = k;
    }
    i = end;
    if (offs && lens && (sep === 32 || sep === -1)) runs.push({ offs, lens, plus, sep });
    const ipv4 = lens !== null && lens.length === 4 && sep === 46;
    if ((digitCount < MIN_DIGITS && !ipv4) || digitCount > MAX_DIGITS) continue;
    lens ??= [j - start];
    groups.push({ start, end, sep, lens, digits: digitsOf(text, start, end, lens.length), plus });
  }
  work.steps += steps;
  return new TextIndex(text, groups, ibanStarts, runs, positions, capitals, postcodes, table, work);
}

/** Whether `s` starts at `p` (compared char by char: cheap and inlined, unlike `startsWith`). */
function startsAt(text: string, p: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (text.charCodeAt(p + k) !== s.charCodeAt(k)) return false;
  return true;
}

const IBAN_SHAPE_READ = 42;

/**
 * End of the IBAN-shaped token at `p` (two capitals, two digits, then groups of four letters or
 * digits separated by single spaces, the last group 1–4 long; 15–34 characters in all), or -1.
 * Compact IBANs are one glued token and need no help. Reads at most 42 characters.
 */
export function ibanShapeEnd(text: string, p: number): number {
  let i = p + 4;
  let count = 4;
  let end = -1;
  while (count < 34 && text.charCodeAt(i) === 32) {
    let k = i + 1;
    while (k - i <= 4 && isAsciiAlnum(text.charCodeAt(k))) k++;
    const len = k - i - 1;
    if (len === 0 || len > 4 || isAsciiAlnum(text.charCodeAt(k))) break;
    count += len;
    i = k;
    if (count >= 15) end = k;
    if (len < 4) break;
  }
  return count <= 34 ? end : -1;
}

function digitsOf(text: string, start: number, end: number, chunks: number): string {
  if (chunks === 1) return text.slice(start, end);
  let digits = '';
  for (let k = start; k < end; k++) if (isDigit(text.charCodeAt(k))) digits += text[k];
  return digits;
}

/**
 * Whether the group is part of a larger token on its left: a decimal, time or version (`3.`,
 * `1,`, `12:` before it), a word or number it is glued to (`ID01…`, `2024-01…`), a handle (`@`)
 * or an amount (`$`, `€`, `£`). After a word, `-`, `_`, `/`, `\` and `#` are boundaries
 * (`fnr-01…`, `fnr_01…`, `/person/01…`, `#01…`), and a `,` after a long integer or a list item
 * separates a list (`Fnr: 01010012356,15038512363`, `Ola,45,01010012356`), as does a `/` between
 * two long integers (`01010012356/15038500047`).
 */
export function gluedLeft(text: string, start: number): boolean {
  const p = text.charCodeAt(start - 1);
  const q = text.charCodeAt(start - 2);
  if (isLetter(p) || isDigit(p)) return true;
  switch (p) {
    case 47: // /
      return isDigit(q) && !longSlashList(text, start - 1);
    case 46: // .
    case 58: // :
    case 45: // -
    case 95: // _
    case 92: // \
      return isDigit(q) || (p === 45 && inUuid(text, start));
    case 44: // ,
      return isDigit(q) && !listCommaAfter(text, start - 1);
    case 64: // @
    case 36: // $
    case 0x20ac: // €
    case 0xa3: // £
      return true;
    default:
      return false;
  }
}

/**
 * Whether the group continues into a larger token on its right: a decimal or time (`.5`, `,50`,
 * `:30`), a word, a handle or a percentage. `-`, `_`, `/`, `\` before a word are boundaries
 * (`/01010012356/profile`), and a `,` after a long integer separates a list (`01010012356,45`).
 */
export function gluedRight(text: string, end: number): boolean {
  const p = text.charCodeAt(end);
  const q = text.charCodeAt(end + 1);
  if (isLetter(p) || isDigit(p)) return true;
  switch (p) {
    case 47:
      return isDigit(q) && !longSlashList(text, end);
    case 46:
    case 58:
    case 45:
    case 95:
    case 92:
      return isDigit(q) || (p === 45 && inUuid(text, end));
    case 44:
      return isDigit(q) && digitsBefore(text, end) < LIST_DIGITS;
    case 64: // @
    case 37: // %
      return true;
    default:
      return false;
  }
}

/** No decimal or amount has an integer part this long: a `,` after it separates a list. */
const LIST_DIGITS = 9;

/** Digits directly before `i`, counted up to {@link LIST_DIGITS}. */
function digitsBefore(text: string, i: number): number {
  let k = i;
  while (k > i - LIST_DIGITS && isDigit(text.charCodeAt(k - 1))) k--;
  return i - k;
}

/**
 * Whether the `/` at `slash` separates two long integers (`01010012356/15038500047`): no date,
 * fraction or case number (`12/29`, `2023/12345`) has nine digits on both sides.
 */
function longSlashList(text: string, slash: number): boolean {
  if (digitsBefore(text, slash) < LIST_DIGITS) return false;
  let k = slash + 1;
  while (k < slash + 1 + LIST_DIGITS && isDigit(text.charCodeAt(k))) k++;
  return k - slash - 1 >= LIST_DIGITS;
}

/** Whether the `,` at `comma` (digits on both sides) separates list items, not decimals. */
function listCommaAfter(text: string, comma: number): boolean {
  const n = digitsBefore(text, comma);
  if (n >= LIST_DIGITS) return true;
  // `Ola,45,01010012356`: the number before the comma is itself a list item.
  const c = text.charCodeAt(comma - n - 1);
  return c === 44 || c === 59;
}

const UUID_LEN = 36;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether offset `i` (next to a `-`) lies in a UUID. Reads at most 72 characters. */
function inUuid(text: string, i: number): boolean {
  let s = i;
  let e = i;
  while (s > 0 && i - s < UUID_LEN && isUuidChar(text.charCodeAt(s - 1))) s--;
  while (e < text.length && e - i < UUID_LEN && isUuidChar(text.charCodeAt(e))) e++;
  if (e - s < UUID_LEN) return false;
  // The UUID is somewhere in [s, e): try the windows of its length that contain i.
  for (let a = Math.max(s, i - UUID_LEN); a + UUID_LEN <= e && a <= i; a++) {
    if (UUID.test(text.slice(a, a + UUID_LEN))) return true;
  }
  return false;
}

function isUuidChar(c: number): boolean {
  return isHex(c) || c === 45;
}

/** Whether the chunk lengths equal `pattern`. */
export function hasLens(g: NumberGroup, pattern: readonly number[]): boolean {
  if (g.lens.length !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) if (g.lens[i] !== pattern[i]) return false;
  return true;
}
