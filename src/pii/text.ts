/** Character-class helpers shared by the detectors. All take UTF-16 char codes (NaN-safe). */

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

export function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

export function isAsciiAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Letters for word boundaries: ASCII letters and the Latin-1/Latin Extended letters (æøå, é, …). */
export function isLetter(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7)
  );
}

/** A character that glues to a token: letter, digit or underscore. */
export function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 95;
}

/** base64url alphabet: A-Z a-z 0-9 - _ */
export function isBase64UrlChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 45 || c === 95;
}

export function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Spaces that may separate digit groups: space, no-break space, narrow no-break space. */
export function isSpace(c: number): boolean {
  return c === 32 || c === 0xa0 || c === 0x202f;
}

/** True when `text[from, from+len)` consists only of chars accepted by `pred`. */
export function allChars(
  text: string,
  from: number,
  len: number,
  pred: (c: number) => boolean,
): boolean {
  if (from < 0 || from + len > text.length) return false;
  for (let i = from; i < from + len; i++) if (!pred(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Shannon entropy in bits per character of `text[start, end)`. Non-ASCII chars share one bucket,
 * which can only lower the estimate (conservative for secret detection).
 */
export function shannonEntropy(
  text: string,
  start: number,
  end: number,
  counts: Uint32Array = new Uint32Array(128),
): number {
  const n = end - start;
  if (n <= 0) return 0;
  counts.fill(0);
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    counts[c < 128 ? c : 127]!++;
  }
  let h = 0;
  for (let i = 0; i < 128; i++) {
    const k = counts[i]!;
    if (k === 0) continue;
    const p = k / n;
    h -= p * Math.log2(p);
  }
  return h;
}
