/**
 * E-mail addresses: local@domain.tld, scanned outwards from each `@` (linear: the local part
 * never extends past the previous match or `@`, the domain never past the next `@`).
 *
 * The domain needs at least two labels, labels of letters/digits/hyphens that neither start nor
 * end with `-`, and an alphabetic top-level domain of two or more letters that is not a file
 * extension (`icon@2x.png`, `pkg@1.2.3` are not addresses).
 */
import { tokens } from './numbers';
import { work } from './text';
import type { Detection, Detector } from './types';

function isLocalChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 46 || // .
    c === 95 || // _
    c === 37 || // %
    c === 43 || // +
    c === 45 // -
  );
}

function isDomainChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46
  );
}

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** File extensions that look like top-level domains in `name@2x.png`-style strings. */
const FILE_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif svg webp ico bmp tif tiff css scss js mjs cjs ts tsx jsx json map html htm ' +
    'md txt pdf zip gz tgz tar xml yml yaml toml lock py rb go rs java kt swift php sh exe dll so ' +
    'woff woff2 ttf otf mp3 mp4 wav mov avi csv log'
  ).split(' '),
);

/** Validates the domain part `text[s, e)`; returns false on empty labels, bad hyphens or TLD. */
function validDomain(text: string, s: number, e: number): boolean {
  let labels = 0;
  let labelStart = s;
  let tldAlpha = true;
  let lastAlpha = false;
  for (let i = s; i <= e; i++) {
    const c = i < e ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (i === labelStart) return false; // empty label (`..`, leading dot)
      if (text.charCodeAt(labelStart) === 45 || text.charCodeAt(i - 1) === 45) return false;
      labels++;
      labelStart = i + 1;
      lastAlpha = tldAlpha;
      tldAlpha = true;
    } else if (!isAlpha(c)) tldAlpha = false;
  }
  if (labels < 2 || !lastAlpha) return false;
  const tldStart = text.lastIndexOf('.', e - 1) + 1;
  if (e - tldStart < 2) return false;
  return !FILE_EXTENSIONS.has(text.slice(tldStart, e).toLowerCase());
}

export const email: Detector = {
  type: 'email',
  category: 'personal_data',
  scan(text: string, out: Detection[]): void {
    let from = 0;
    let lastEnd = 0;
    for (const at of tokens(text).at) {
      if (at < from) continue;
      from = at + 1;
      let s = at;
      while (s > lastEnd && isLocalChar(text.charCodeAt(s - 1))) s--;
      while (s < at && text.charCodeAt(s) === 46) s++; // no leading dot
      if (s === at || text.charCodeAt(at - 1) === 46) continue;
      let e = at + 1;
      while (e < text.length && isDomainChar(text.charCodeAt(e))) e++;
      work.steps += e - s;
      from = Math.max(from, e);
      while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
      if (e === at + 1 || !validDomain(text, at + 1, e)) continue;
      out.push({ type: 'email', start: s, end: e });
      lastEnd = e;
    }
  },
};
