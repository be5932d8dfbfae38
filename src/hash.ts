/** SHA-256 as lower-case hex: key hashes, policy versions and audit input hashes all use it. */

/** `00`…`ff`: a byte to hex is one lookup, not a `toString(16)` and a pad (hot path: every request). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const UTF8 = new TextEncoder();

/** Lower-case hex of `bytes` (of `bytes[from, to)` when given). */
export function toHex(bytes: Uint8Array, from = 0, to = bytes.length): string {
  let s = '';
  for (let i = from; i < to; i++) s += HEX[bytes[i]!];
  return s;
}

export async function sha256Hex(value: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', UTF8.encode(value))));
}
