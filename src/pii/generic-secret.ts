/**
 * Generic secrets in assignments: `password=…`, `api_key: "…"`, `DB_PASSWORD='…'`,
 * `"client_secret": "…"`. The key must end in a secret word (secret, token, password, passwd,
 * pwd, passphrase, passord, api_key/apikey, access_key, private_key, auth, credentials) at a word
 * boundary, and the value must look random: 8+ characters, Shannon entropy ≥ 3 bits per char,
 * and either two character classes or 16+ characters with entropy ≥ 3.5. Placeholders
 * (`${TOKEN}`, `<your-token>`, `process.env.X`, `changeme`, `****`) are not reported. The
 * finding covers the value only, so redaction leaves `password=[SECRET_GENERIC]`.
 *
 * Anchored on `=` and `:`; the key is read backwards for at most 48 chars and the value forwards
 * for at most 512, so the work per anchor is bounded and scanning is linear.
 */
import { COLON } from './anchors';
import { isAsciiAlnum, isDigit, isLower, isUpper, shannonEntropy } from './text';
import type { Anchor, Detection, Detector, Work } from './types';

const EQUALS: Anchor = { chars: '=' };

const KEY_WORDS = [
  'secret',
  'token',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'passord',
  'apikey',
  'api_key',
  'api-key',
  'accesskey',
  'access_key',
  'secretkey',
  'secret_key',
  'secret-key',
  'privatekey',
  'private_key',
  'auth',
  'credentials',
  'credential',
] as const;

const MAX_KEY = 48;
const MAX_VALUE = 512;
const MIN_VALUE = 8;

const PLACEHOLDER =
  /^(?:changeme|change_me|example|placeholder|password|secret|token|undefined|null|none|true|false|redacted|your[-_a-z]*|x+|\*+|\.+|-+)$/i;

/** Documentation placeholders: `xoxb-your-token-here`, `<insert key>`, `sk_test_XXXX…`. */
const PLACEHOLDER_WORD = /your|example|placeholder|changeme|dummy|redacted|insert|replace|xxxx/i;

function isKeyChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 95 || c === 45 || c === 46;
}

/** Last three letters (lower case) of every key word: a cheap filter before any allocation. */
const KEY_ENDINGS = new Set(KEY_WORDS.map((w) => w.slice(-3)));

function lower3(text: string, e: number): string {
  return String.fromCharCode(
    text.charCodeAt(e - 3) | 32,
    text.charCodeAt(e - 2) | 32,
    text.charCodeAt(e - 1) | 32,
  );
}

/** Whether the identifier `text[s, e)` ends with a secret word at a word boundary. */
function isSecretKey(text: string, s: number, e: number): boolean {
  if (e - s < 3 || !KEY_ENDINGS.has(lower3(text, e))) return false;
  const key = text.slice(s, e);
  const lower = key.toLowerCase();
  for (const w of KEY_WORDS) {
    if (!lower.endsWith(w)) continue;
    const at = key.length - w.length;
    if (at === 0) return true;
    const before = key.charCodeAt(at - 1);
    // snake_case, kebab-case, dotted, or camelCase boundary (`clientSecret`).
    if (before === 95 || before === 45 || before === 46) return true;
    if (isUpper(key.charCodeAt(at)) && !isUpper(before)) return true;
    if (isUpper(before) && isUpper(key.charCodeAt(at))) {
      // SCREAMING_CASE without separator (`APITOKEN`) — accept only for the long words.
      return w.length >= 6;
    }
  }
  return false;
}

/** `a.b.c` where every part is an identifier: code, not a secret. */
function isDottedIdentifier(text: string, s: number, e: number): boolean {
  let dots = 0;
  let partStart = true;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (partStart) return false;
      dots++;
      partStart = true;
    } else if (isAsciiAlnum(c) || c === 95 || c === 36) {
      if (partStart && isDigit(c)) return false;
      partStart = false;
    } else return false;
  }
  return dots > 0 && !partStart;
}

function charClasses(text: string, s: number, e: number): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (isLower(c)) lower = 1;
    else if (isUpper(c)) upper = 1;
    else if (isDigit(c)) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other;
}

/** Whether the value `text[s, e)` looks like a real secret rather than code or a placeholder. */
export function looksSecret(
  text: string,
  s: number,
  e: number,
  counts: Uint32Array = new Uint32Array(128),
): boolean {
  const n = e - s;
  if (n < MIN_VALUE || n > MAX_VALUE) return false;
  const first = text.charCodeAt(s);
  const last = text.charCodeAt(e - 1);
  // $VAR, ${VAR}, %VAR%, {{var}}, <placeholder>, (expr), [list].
  if (first === 123 || first === 60 || first === 40 || first === 91) return false;
  if (first === 36 && (isAsciiAlnum(text.charCodeAt(s + 1)) || text.charCodeAt(s + 1) === 123)) {
    if (!isDigit(text.charCodeAt(s + 1))) return false;
  }
  if (first === 37 && last === 37) return false;
  const value = text.slice(s, e);
  if (PLACEHOLDER.test(value) || PLACEHOLDER_WORD.test(value)) return false;
  // Dotted identifiers and calls are code: process.env.TOKEN, os.environ["X"], getToken().
  if (isDottedIdentifier(text, s, e) || value.includes('(')) return false;
  const h = shannonEntropy(text, s, e, counts);
  if (h < 3) return false;
  return charClasses(text, s, e) >= 2 || (n >= 16 && h >= 3.5);
}

function isValueEnd(c: number, quote: number): boolean {
  if (quote) return c === quote || c === 10 || c === 13;
  return (
    c !== c || // NaN: end of text
    c <= 32 ||
    c === 34 ||
    c === 39 ||
    c === 96 ||
    c === 44 ||
    c === 59 ||
    c === 41 ||
    c === 125 ||
    c === 93 ||
    c === 62 ||
    c === 38
  );
}

function scanAnchor(
  text: string,
  anchor: string,
  positions: readonly number[],
  out: Detection[],
  work: Work,
  counts: Uint32Array,
): void {
  const n = text.length;
  let from = 0;
  // End of the unquoted value run last read. Anchors come in increasing order, so a later
  // anchor whose value starts before it ends at the same place: reuse it instead of re-reading
  // (`password=password=…` would otherwise read 512 chars per anchor).
  let runEnd = -1;
  for (const p of positions) {
    if (p < from) continue;
    from = p + 1;
    // `==`, `=>`, `!=`, `::` and URLs (`://`) are not assignments.
    const next = text.charCodeAt(p + 1);
    const prevC = text.charCodeAt(p - 1);
    if (next === 61 || (anchor === '=' && next === 62) || prevC === 33 || prevC === 61) continue;
    if (anchor === ':' && (next === 58 || next === 47 || prevC === 58)) continue;
    // Key: optional closing quote and spaces, then identifier chars.
    let k = p;
    while (k > 0 && p - k < 2 && text.charCodeAt(k - 1) === 32) k--;
    const q = text.charCodeAt(k - 1);
    if (q === 34 || q === 39) k--;
    const keyEnd = k;
    while (k > 0 && keyEnd - k < MAX_KEY && isKeyChar(text.charCodeAt(k - 1))) k--;
    work.steps += p - k;
    if (k === keyEnd || keyEnd - k >= MAX_KEY) continue;
    if (!isSecretKey(text, k, keyEnd)) continue;
    // Value: spaces, optional opening quote, then up to the closing quote or a delimiter.
    let v = p + 1;
    while (v < n && v - p < 4 && text.charCodeAt(v) === 32) v++;
    let quote = text.charCodeAt(v);
    if (quote === 34 || quote === 39 || quote === 96) v++;
    else quote = 0;
    let e = v;
    if (!quote && v < runEnd) e = runEnd;
    else {
      while (e < n && e - v <= MAX_VALUE && !isValueEnd(text.charCodeAt(e), quote)) e++;
      if (!quote && e - v > MAX_VALUE) {
        while (e < n && !isValueEnd(text.charCodeAt(e), 0)) e++;
        runEnd = e;
      }
      work.steps += e - v;
    }
    work.steps += v - p;
    if (e - v > MAX_VALUE) continue;
    if (quote && text.charCodeAt(e) !== quote) continue;
    // An unquoted value ends before trailing sentence punctuation.
    let end = e;
    if (!quote)
      while (end > v && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 58)) end--;
    if (!looksSecret(text, v, end, counts)) continue;
    out.push({ type: 'secret_generic', start: v, end });
    from = Math.max(from, e);
  }
}

export const genericSecret: Detector = {
  types: ['secret_generic'],
  anchors: [EQUALS, COLON],
  scan(text, ctx, out): void {
    const counts = new Uint32Array(128); // entropy scratch, one per scan
    scanAnchor(text, '=', ctx.positions(EQUALS), out, ctx.work, counts);
    scanAnchor(text, ':', ctx.positions(COLON), out, ctx.work, counts);
  },
};
