/**
 * JSON Web Tokens: three base64url parts separated by dots, whose header decodes to a JSON
 * object with a string `alg` (and whose payload decodes to a JSON object, `{…`). Anchored on `eyJ` (base64url
 * of `{"`) at a token boundary; each base64url run is read once, so scanning is linear.
 */
import { isBase64UrlChar } from './text';
import type { Anchor, Detector, Work } from './types';

/** The `J` of `eyJ` (base64url of `{"`); the recorded position is the `e`. */
const EYJ: Anchor = {
  chars: 'J',
  prefixes: ['eyJ'],
  offset: -2,
};

const MAX_HEADER = 2048;

/** base64url digit values, -1 for other chars. */
const B64URL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  B64URL['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;
}

/**
 * Decodes base64url to a string of byte values (UTF-8 bytes as latin-1 code units, enough for
 * JSON.parse to check the structure); null when malformed. Hand-rolled because `atob` needs the
 * standard alphabet and padding, and is slow in some runtimes.
 */
function decodeBase64Url(s: string): string | null {
  const n = s.length;
  if (n % 4 === 1) return null;
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64URL[c]! : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
    }
  }
  return out;
}

function decodesToJsonObject(part: string): Record<string, unknown> | null {
  const json = decodeBase64Url(part);
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Reads a base64url run from `i`; returns its end. */
function run(text: string, i: number, work: Work): number {
  const s = i;
  while (i < text.length && isBase64UrlChar(text.charCodeAt(i))) i++;
  work.steps += i - s;
  return i;
}

/** Whether `token` (header.payload.signature) is a structurally valid JWT. */
export function isJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [h, p, sig] = parts as [string, string, string];
  if (h.length > MAX_HEADER || p.length < 4) return false;
  const header = decodesToJsonObject(h);
  if (!header || typeof header.alg !== 'string') return false;
  if (sig.length === 0 && header.alg !== 'none') return false;
  // The payload must be base64url of a JSON object: checking that it decodes to `{` is enough
  // once the header parsed (decoding and parsing whole payloads is the costly part).
  return (decodeBase64Url(p.slice(0, 4)) ?? '').startsWith('{');
}

export const jwt: Detector = {
  types: ['secret_jwt'],
  anchors: [EYJ],
  scan(text, ctx, out): void {
    const work = ctx.work;
    let from = 0;
    for (const s of ctx.positions(EYJ)) {
      if (s < from) continue;
      from = s + 3;
      if (s > 0 && isBase64UrlChar(text.charCodeAt(s - 1))) continue; // inside another token
      const e1 = run(text, s, work);
      from = e1;
      if (text.charCodeAt(e1) !== 46) continue;
      const e2 = run(text, e1 + 1, work);
      from = e2;
      if (text.charCodeAt(e2) !== 46) continue;
      const e3 = run(text, e2 + 1, work);
      from = e3;
      if (text.charCodeAt(e3) === 46 && isBase64UrlChar(text.charCodeAt(e3 + 1))) continue; // JWE/other
      if (!isJwt(text.slice(s, e3))) continue;
      out.push({ type: 'secret_jwt', start: s, end: e3 });
    }
  },
};
