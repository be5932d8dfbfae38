/** Key material: generation with a CSPRNG and constant-time comparison (hashing: src/hash.ts). */

export const KEY_PREFIX = 'vakt_';

/** A new API key: `vakt_` + 43 base64url characters (256 bits from the CSPRNG). */
export function generateApiKey(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return KEY_PREFIX + base64url(bytes);
}

/** The first characters of a key, safe to show in lists (8 of 43 random characters). */
export function keyDisplayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 8);
}

/**
 * Constant-time string equality. Both sides are hashed first so the comparison runs over equal
 * lengths and neither the content nor the length of the secret leaks through timing.
 */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(a)),
    crypto.subtle.digest('SHA-256', enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
