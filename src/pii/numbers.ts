/**
 * The one pass over the text. Every detector starts from something this pass records, so the
 * text is walked once per scan (not once per detector) and the result is cached for the text
 * being scanned:
 * - digit groups for the numeric detectors (fødselsnummer, kontonummer, organisasjonsnummer,
 *   payment card, phone, IPv4) and IBAN starts;
 * - anchor positions for the others: `@` (e-mail), `:` (IPv6, generic secrets), `=` (generic
 *   secrets), `_` (GitHub, Stripe), `eyJ` (JWT), `-----BEGIN ` (PEM), `AKIA`/`ASIA`/`ABIA`/`ACCA`/
 *   `AIza` (AWS, Google), `xox`/`xapp-` (Slack).
 *
 * A group is a run of digit chunks joined by one kind of separator (space, no-break space, `.`
 * or `-`), e.g. `912 34 567`, `1234.56.78903`, `4111-1111-1111-1111`, `192.168.0.1`. After a `+`
 * (E.164) spaces, `-` and `.` may be mixed. Groups too short for any detector are not kept.
 */
import { isDigit, isSpace, isUpper, isWordChar, work } from './text';

export interface NumberGroup {
  /** UTF-16 offset of the first digit (the `+` of an E.164 number is not included). */
  readonly start: number;
  /** UTF-16 offset just after the last digit. */
  readonly end: number;
  /** The separator char code, 0 for a single chunk, -1 for mixed separators after `+`. */
  readonly sep: number;
  /** Length of each digit chunk. */
  readonly lens: readonly number[];
  /** The digits without separators. */
  readonly digits: string;
  /** Preceded by a `+` that is not glued to a word (`3+4` is arithmetic, `+47 …` a phone). */
  readonly plus: boolean;
}

export interface Tokens {
  readonly groups: readonly NumberGroup[];
  /** Offsets of two capital letters directly followed by two digits, at a word start: IBAN candidates. */
  readonly ibanStarts: readonly number[];
  /** Offsets of every `@`, `:`, `=` and `_`. */
  readonly at: readonly number[];
  readonly colon: readonly number[];
  readonly equals: readonly number[];
  readonly underscore: readonly number[];
  /** Offsets of `eyJ`, `-----BEGIN `, the AWS/Google key prefixes and the Slack prefixes. */
  readonly jwt: readonly number[];
  readonly pem: readonly number[];
  readonly keyPrefixes: readonly number[];
  readonly slack: readonly number[];
}

/** Character classes of the pass: 0 nothing, 1 digit, 2.. anchors. */
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = 1;
CLASS[64] = 2; // @
CLASS[58] = 3; // :
CLASS[61] = 4; // =
CLASS[95] = 5; // _
CLASS[74] = 6; // J (of eyJ)
CLASS[66] = 7; // B (of -----BEGIN)
CLASS[65] = 8; // A (of AKIA, ASIA, ABIA, ACCA, AIza)
CLASS[120] = 9; // x (of xoxb-, xapp-)

function isKeyPrefix(text: string, i: number): boolean {
  const b = text.charCodeAt(i + 1);
  const c = text.charCodeAt(i + 2);
  const d = text.charCodeAt(i + 3);
  if (b === 73) return c === 122 && d === 97; // AIza
  if (d !== 65) return false;
  // AKIA ASIA ABIA ACCA
  return (
    (b === 75 && c === 73) ||
    (b === 83 && c === 73) ||
    (b === 66 && c === 73) ||
    (b === 67 && c === 67)
  );
}

/** Groups with fewer digits are dropped unless they may be an IPv4 address (four dot chunks). */
const MIN_DIGITS = 8;
/** Longer groups are no identifier we know (cards top out at 19, E.164 at 15). */
const MAX_DIGITS = 24;

function isGroupSep(c: number): boolean {
  return isSpace(c) || c === 46 || c === 45;
}

let cachedText: string | null = null;
let cachedTokens: Tokens | null = null;

/** Tokenizes `text`, reusing the result when the same text is scanned by the next detector. */
export function tokens(text: string): Tokens {
  if (cachedText === text && cachedTokens) return cachedTokens;
  const t = tokenize(text);
  cachedText = text;
  cachedTokens = t;
  return t;
}

/** Drops the cached tokens (so a large scanned text is not kept alive). */
export function releaseTokens(): void {
  cachedText = null;
  cachedTokens = null;
}

function tokenize(text: string): Tokens {
  const groups: NumberGroup[] = [];
  const ibanStarts: number[] = [];
  const at: number[] = [];
  const colon: number[] = [];
  const equals: number[] = [];
  const underscore: number[] = [];
  const jwt: number[] = [];
  const pem: number[] = [];
  const keyPrefixes: number[] = [];
  const slack: number[] = [];
  const n = text.length;
  let steps = n;
  let i = 0;
  while (i < n) {
    // Tight skip over characters no detector starts from (most of any prose).
    let c = text.charCodeAt(i);
    while (c >= 128 || CLASS[c] === 0) {
      if (++i >= n) break;
      c = text.charCodeAt(i);
    }
    if (i >= n) break;
    const cls = CLASS[c]!;
    if (cls !== 1) {
      switch (cls) {
        case 2:
          at.push(i);
          break;
        case 3:
          colon.push(i);
          break;
        case 4:
          equals.push(i);
          break;
        case 5:
          underscore.push(i);
          break;
        case 6:
          if (text.charCodeAt(i - 1) === 121 && text.charCodeAt(i - 2) === 101) jwt.push(i - 2);
          break;
        case 7:
          if (text.startsWith('BEGIN ', i) && text.startsWith('-----', i - 5)) pem.push(i - 5);
          break;
        case 8:
          if (isKeyPrefix(text, i)) keyPrefixes.push(i);
          break;
        default:
          if (text.startsWith('xox', i) || text.startsWith('xapp-', i)) slack.push(i);
      }
      i++;
      continue;
    }
    const start = i;
    let j = i + 1;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    steps += j - i;
    const prev = text.charCodeAt(start - 1);
    if (isWordChar(prev)) {
      // Glued to a word (`abc123`): not a number on its own, but maybe an IBAN (`NO93…`).
      if (
        j - start >= 2 &&
        isUpper(prev) &&
        isUpper(text.charCodeAt(start - 2)) &&
        !isWordChar(text.charCodeAt(start - 3))
      ) {
        ibanStarts.push(start - 2);
      }
      i = j;
      continue;
    }
    const plus = prev === 43 && !isWordChar(text.charCodeAt(start - 2));
    const lens: number[] = [j - start];
    let digitCount = j - start;
    let sep = 0;
    let end = j;
    // Extend over `sep digits` while the separator stays the same (or anything after `+`).
    while (end < n && digitCount <= MAX_DIGITS) {
      const s = text.charCodeAt(end);
      if (!isGroupSep(s) || !isDigit(text.charCodeAt(end + 1))) break;
      const sepKind = isSpace(s) ? 32 : s;
      if (sep !== 0 && sep !== sepKind) {
        if (!plus) break;
        sep = -1;
      } else if (sep === 0) sep = sepKind;
      let k = end + 1;
      while (k < n && isDigit(text.charCodeAt(k))) k++;
      steps += k - end;
      // A chunk glued to letters on its right (`567abc`) ends the group before it.
      if (isWordChar(text.charCodeAt(k)) && !isDigit(text.charCodeAt(k))) break;
      lens.push(k - end - 1);
      digitCount += k - end - 1;
      end = k;
    }
    i = end;
    if (digitCount > MAX_DIGITS) {
      // Skip the rest of an overlong run so it is not re-read as new groups.
      while (i < n && (isDigit(text.charCodeAt(i)) || isGroupSep(text.charCodeAt(i)))) {
        i++;
        steps++;
      }
      continue;
    }
    if (digitCount < MIN_DIGITS && !(lens.length === 4 && sep === 46)) continue;
    let digits: string;
    if (lens.length === 1) digits = text.slice(start, end);
    else {
      digits = '';
      for (let k = start; k < end; k++) {
        const d = text.charCodeAt(k);
        if (isDigit(d)) digits += text[k];
      }
    }
    groups.push({ start, end, sep, lens, digits, plus });
  }
  work.steps += steps;
  return { groups, ibanStarts, at, colon, equals, underscore, jwt, pem, keyPrefixes, slack };
}

/**
 * Whether the group is part of a larger token on its left: a decimal or version (`3.` / `1,`
 * before it), an identifier or path (`ID-`, `a/`), a reference (`#`), a handle (`@`) or an
 * amount (`$`, `€`, `£`).
 */
export function gluedLeft(text: string, start: number): boolean {
  const p = text.charCodeAt(start - 1);
  const q = text.charCodeAt(start - 2);
  if (isWordChar(p)) return true;
  switch (p) {
    case 46: // .
    case 44: // ,
    case 58: // :
      return isDigit(q);
    case 45: // -
    case 47: // /
    case 92: // \
      return isWordChar(q);
    case 35: // #
    case 64: // @
    case 36: // $
    case 0x20ac: // €
    case 0xa3: // £
      return true;
    default:
      return false;
  }
}

/** Whether the group continues into a larger token on its right (decimal, identifier, time, %). */
export function gluedRight(text: string, end: number): boolean {
  const p = text.charCodeAt(end);
  const q = text.charCodeAt(end + 1);
  if (isWordChar(p)) return true;
  switch (p) {
    case 46:
    case 44:
    case 58:
      return isDigit(q);
    case 45:
    case 47:
    case 92:
      return isWordChar(q);
    case 64: // @
    case 37: // %
      return true;
    default:
      return false;
  }
}

/** Whether the chunk lengths equal `pattern`. */
export function hasLens(g: NumberGroup, pattern: readonly number[]): boolean {
  if (g.lens.length !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) if (g.lens[i] !== pattern[i]) return false;
  return true;
}
