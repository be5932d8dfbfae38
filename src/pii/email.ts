/**
 * E-mail addresses: local@domain.tld, scanned outwards from each `@` (linear: the local part
 * never extends past the previous match or `@`, the domain never past the next `@`).
 *
 * Local parts and domains may be Unicode (SMTPUTF8, IDN: `kåre@blåbær.no`). The domain needs at
 * least two labels, labels of letters/digits/hyphens that neither start nor end with `-`, and an
 * alphabetic top-level domain of two or more letters.
 *
 * File names look like addresses (`icon@2x.png`, `logo@3x.zip`). A top-level domain that is a
 * file extension and no real TLD (`png`, `js`, `pdf` …) is never an address. One that is both
 * (`zip`, `mov`, `md`, `py`, `rs`, `sh`, `so`) is an address unless the context says file: a
 * path before it (`assets/…`), labels before the TLD that are only digits or a scale
 * (`@2x`, `@1.5x`, `@2024`), or a file word just before (`file`, `fil`, `vedlegg`, `attachment`).
 * The user part of a URL (`https://user@host/`) is not an address either.
 */
import type { Anchor, Detector } from './types';

const AT: Anchor = { chars: '@' };

/**
 * Letters, digits and marks — except Han, kana and Hangul: CJK prose runs words together without
 * spaces, so `请联系kari@example.no` would otherwise grow a local part of Chinese characters.
 */
const UNICODE_WORD = /^(?![\p{sc=Han}\p{sc=Hira}\p{sc=Kana}\p{sc=Hang}])[\p{L}\p{N}\p{M}]$/u;

/** Letters, digits and marks of most scripts (ASCII first, then Latin, then a regex). */
function isWordLike(c: number): boolean {
  if (c < 0x80) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
  if (c >= 0xc0 && c <= 0x24f) return c !== 0xd7 && c !== 0xf7;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  // NaN (past the end of the text) is no word character.
  return !Number.isNaN(c) && UNICODE_WORD.test(String.fromCharCode(c));
}

function isLocalChar(c: number): boolean {
  return (
    isWordLike(c) ||
    c === 46 || // .
    c === 95 || // _
    c === 37 || // %
    c === 43 || // +
    c === 45 // -
  );
}

function isDomainChar(c: number): boolean {
  return isWordLike(c) || c === 45 || c === 46;
}

function isLetterLike(c: number): boolean {
  return !(c >= 48 && c <= 57) && isWordLike(c);
}

/** File extensions that are no top-level domain: `name@2x.png` is a file, whatever its context. */
const FILE_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif svg webp ico bmp tif tiff heic css scss js mjs cjs ts tsx jsx json map ' +
    'html htm txt pdf gz tgz tar xml yml yaml toml lock rb go java kt swift php exe dll woff ' +
    'woff2 ttf otf mp3 mp4 wav avi csv log docx xlsx pptx'
  ).split(' '),
);

/** Real top-level domains that are also common file extensions: addresses unless context says file. */
const FILE_LIKE_TLDS = new Set('zip mov md py rs sh so'.split(' '));

const FILE_WORDS = new Set(
  'file fil fila filen vedlegg vedlegget attachment archive arkiv download image bilde'.split(' '),
);

/** The TLD start if `text[s, e)` is a valid domain, else -1. */
function tldStart(text: string, s: number, e: number): number {
  let labels = 0;
  let labelStart = s;
  let tldAlpha = true;
  let lastAlpha = false;
  let lastStart = s;
  for (let i = s; i <= e; i++) {
    const c = i < e ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (i === labelStart) return -1; // empty label (`..`, leading dot)
      if (text.charCodeAt(labelStart) === 45 || text.charCodeAt(i - 1) === 45) return -1;
      labels++;
      lastStart = labelStart;
      labelStart = i + 1;
      lastAlpha = tldAlpha;
      tldAlpha = true;
    } else if (!isLetterLike(c)) tldAlpha = false;
  }
  if (labels < 2 || !lastAlpha || e - lastStart < 2) return -1;
  return lastStart;
}

/** `2x`, `1.5x`, `2024`: labels of a file name's scale or version, not of a host name. */
function fileLikeLabels(text: string, s: number, tld: number): boolean {
  const labels = text.slice(s, tld - 1).split('.');
  return labels.every((l) => /^\d+x?$/i.test(l));
}

function fileContext(text: string, s: number, at: number, tld: number): boolean {
  const before = text.charCodeAt(s - 1);
  if (before === 47 || before === 92) return true; // a path: assets/logo@firma.zip
  if (fileLikeLabels(text, at + 1, tld)) return true;
  // The word right before the address.
  let i = s;
  while (i > 0 && s - i < 3 && (text.charCodeAt(i - 1) === 32 || text.charCodeAt(i - 1) === 58))
    i--;
  const wordEnd = i;
  while (i > 0 && wordEnd - i < 12 && isLetterLike(text.charCodeAt(i - 1))) i--;
  return FILE_WORDS.has(text.slice(i, wordEnd).toLowerCase());
}

export const email: Detector = {
  types: ['email'],
  anchors: [AT],
  scan(text, ctx, out): void {
    let from = 0;
    let lastEnd = 0;
    for (const at of ctx.positions(AT)) {
      if (at < from) continue;
      from = at + 1;
      let s = at;
      while (s > lastEnd && isLocalChar(text.charCodeAt(s - 1))) s--;
      while (s < at && text.charCodeAt(s) === 46) s++; // no leading dot
      if (s === at || text.charCodeAt(at - 1) === 46) continue;
      // `https://user@host/…`: the user part of a URL, not an address.
      if (text.startsWith('://', s - 3)) continue;
      let e = at + 1;
      while (e < text.length && isDomainChar(text.charCodeAt(e))) e++;
      ctx.work.steps += e - s + 16;
      from = Math.max(from, e);
      while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
      if (e === at + 1) continue;
      const tld = tldStart(text, at + 1, e);
      if (tld < 0) continue;
      const ext = text.slice(tld, e).toLowerCase();
      if (FILE_EXTENSIONS.has(ext)) continue;
      if (FILE_LIKE_TLDS.has(ext) && fileContext(text, s, at, tld)) continue;
      out.push({ type: 'email', start: s, end: e });
      lastEnd = e;
    }
  },
};
