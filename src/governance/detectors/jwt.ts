/**
 * JSON Web Tokens: three base64url parts separated by dots, whose header decodes to a JSON
 * object with a string `alg` (and whose payload decodes to JSON). Anchored on `eyJ` (base64url
 * of `{"`) at a token boundary; each base64url run is read once, so scanning is linear.
 */
import { isBase64UrlChar, work } from './text';
import type { Detection, Detector } from './types';

const MAX_HEADER = 2048;

/** Decodes base64url to a string (latin-1 code units); null when malformed. */
function decodeBase64Url(s: string): string | null {
  if (s.length % 4 === 1) return null;
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  try {
    return atob(b64);
  } catch {
    return null;
  }
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
function run(text: string, i: number): number {
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
  // Very large payloads are not decoded (bounded work); the header already proved the shape.
  return p.length > 8192 || decodesToJsonObject(p) !== null;
}

export const jwt: Detector = {
  type: 'secret_jwt',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    let from = 0;
    for (;;) {
      const s = text.indexOf('eyJ', from);
      work.steps += (s < 0 ? text.length : s) - from + 1;
      if (s < 0) return;
      from = s + 3;
      if (s > 0 && isBase64UrlChar(text.charCodeAt(s - 1))) continue; // inside another token
      const e1 = run(text, s);
      from = e1;
      if (text.charCodeAt(e1) !== 46) continue;
      const e2 = run(text, e1 + 1);
      from = e2;
      if (text.charCodeAt(e2) !== 46) continue;
      const e3 = run(text, e2 + 1);
      from = e3;
      if (text.charCodeAt(e3) === 46 && isBase64UrlChar(text.charCodeAt(e3 + 1))) continue; // JWE/other
      if (!isJwt(text.slice(s, e3))) continue;
      out.push({ type: 'secret_jwt', start: s, end: e3 });
    }
  },
};
