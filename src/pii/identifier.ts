/**
 * Identifier fields: strings a caller chooses that vakt stores or echoes although they are not
 * the input — `model`, `operation`, metadata keys and values, `X-Request-Id`. They are scanned
 * like input, and because an identifier is exactly where personal data slips past a validating
 * detector (`req_01010012356`, `card-4111111111111111`, a number with a wrong checksum), any run
 * of nine or more digits is redacted too, unless it is part of a UUID or a hex string.
 *
 * A run is digits joined by single separators (space, no-break spaces, `.`, `-`, `/`, `,`) that
 * does not start inside an alphanumeric word (`o1-2024-12-17` keeps its date: the `1` belongs to
 * `o1`, and `2024-12-17` has eight digits). Model names with dates therefore survive.
 */
import { redact, scanText } from './index';
import { normalize } from './normalize';
import { isAsciiAlnum, isDigit, isHex } from './text';

/** What a redacted digit run becomes. */
export const NUMBER_LABEL = '[NUMBER]';
/** Fewest digits in a run that is redacted whatever its checksum. */
export const MIN_REDACTED_DIGITS = 9;

function isRunSeparator(c: number): boolean {
  return c === 32 || c === 0xa0 || c === 0x202f || c === 46 || c === 45 || c === 47 || c === 44;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `text[start, end)` lies in a UUID, or in a hex string (a hyphen-free run of 16+ hex
 * digits with at least one letter, such as a git SHA or a trace id).
 */
function inHexIdentifier(text: string, start: number, end: number): boolean {
  const hexOrHyphen = (c: number) => isHex(c) || c === 45;
  let s = start;
  let e = end;
  while (s > 0 && hexOrHyphen(text.charCodeAt(s - 1))) s--;
  while (e < text.length && hexOrHyphen(text.charCodeAt(e))) e++;
  if (UUID.test(text.slice(s, e))) return true;
  // The hyphen-free part around the run.
  let ps = start;
  let pe = end;
  while (ps > 0 && isHex(text.charCodeAt(ps - 1))) ps--;
  while (pe < text.length && isHex(text.charCodeAt(pe))) pe++;
  if (pe < end) return false; // the run crosses a hyphen: not one hex string
  const part = text.slice(ps, pe);
  return part.length >= 16 && /[a-f]/i.test(part);
}

/** Digits from `i` on. */
function digitsAt(text: string, i: number): number {
  let j = i;
  while (j < text.length && isDigit(text.charCodeAt(j))) j++;
  return j - i;
}

/**
 * Spans of digit runs of at least {@link MIN_REDACTED_DIGITS} digits, as `[start, end)` pairs.
 * A hyphen joins two chunks only when both have three or more digits, so version and date
 * parts of model names (`claude-sonnet-4-20250514`, `2024-08-06`) stay separate chunks while
 * `4111-1111-1111-1111` and `010100-12356` are one run. Digits glued to a word on their left
 * (`o1`, `id01010012356`) form a run of their own.
 */
export function longDigitRuns(original: string): Array<[number, number]> {
  // Hidden and look-alike digits count (`req_0101001\u200b2357`, full-width digits): runs are
  // found in the normalised text and mapped back to the original.
  const { text, map } = normalize(original);
  const spans: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    const glued = start > 0 && isAsciiAlnum(text.charCodeAt(start - 1));
    let chunk = digitsAt(text, i);
    let digits = chunk;
    i += chunk;
    let end = i;
    while (!glued && i < n) {
      const c = text.charCodeAt(i);
      const next = digitsAt(text, i + 1);
      if (next === 0 || !isRunSeparator(c)) break;
      if (c === 45 && (chunk < 3 || next < 3)) break;
      chunk = next;
      digits += next;
      i += 1 + next;
      end = i;
    }
    if (digits < MIN_REDACTED_DIGITS || inHexIdentifier(text, start, end)) continue;
    spans.push(map ? [map.start(start), map.end(end)] : [start, end]);
  }
  return spans;
}

/** The identifier with detected personal data, secrets and long digit runs redacted. */
export function scrubIdentifier(text: string): string {
  const detections = scanText(text);
  const runs = longDigitRuns(text);
  if (runs.length === 0) return redact(text, detections);
  // Digit runs overlapping a detection are covered by it; merge the rest in as [NUMBER] spans.
  const covered = (s: number, e: number) => detections.some((d) => d.start < e && s < d.end);
  const spans: Array<{ start: number; end: number; label: string }> = detections.map((d) => ({
    start: d.start,
    end: d.end,
    label: `[${d.type.toUpperCase()}]`,
  }));
  for (const [s, e] of runs)
    if (!covered(s, e)) spans.push({ start: s, end: e, label: NUMBER_LABEL });
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let cursor = 0;
  for (const sp of spans) {
    if (sp.start < cursor) {
      cursor = Math.max(cursor, sp.end);
      continue;
    }
    out += text.slice(cursor, sp.start) + sp.label;
    cursor = sp.end;
  }
  return out + text.slice(cursor);
}

/** Whether an identifier would pass {@link scrubIdentifier} unchanged. */
export function isCleanIdentifier(text: string): boolean {
  return longDigitRuns(text).length === 0 && scanText(text).length === 0;
}
