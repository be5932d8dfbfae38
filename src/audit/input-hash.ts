/**
 * The audit event's input hash: HMAC-SHA-256 under the secret AUDIT_HASH_KEY, never a plain
 * SHA-256. A plain hash of a templated prompt ("finn saken til pasient med fnr …") can be
 * reversed by enumerating every valid fødselsnummer; a keyed one cannot without the key.
 *
 * The key id stored beside the hash is derived from the key itself (the first 16 hex digits of
 * HMAC(key, "vakt audit key id")), so it cannot drift from the key it names: after a rotation,
 * old rows carry the old id, and whoever holds the old key can still verify them
 * (docs/audit.md "Rotating AUDIT_HASH_KEY"). Without a key the event carries no hash at all.
 */
import { canonicalJson } from '../governance/policy';
import { toHex } from '../hash';

const encoder = new TextEncoder();
const KEY_ID_LABEL = 'vakt audit key id';

export interface InputHashKey {
  /** 16 hex digits naming the key. */
  id: string;
  key: CryptoKey;
}

const cache = new Map<string, Promise<InputHashKey>>();

/** The imported key and its id; imported once per isolate per secret. */
export function inputHashKey(secret: string): Promise<InputHashKey> {
  let k = cache.get(secret);
  if (!k) {
    k = importKey(secret);
    cache.set(secret, k);
  }
  return k;
}

async function importKey(secret: string): Promise<InputHashKey> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const id = hex(await crypto.subtle.sign('HMAC', key, encoder.encode(KEY_ID_LABEL))).slice(0, 16);
  return { id, key };
}

/** The bytes hashed: the input string as received, or the canonical JSON of structured input. */
export function hashedInput(input: unknown): string {
  return typeof input === 'string' ? input : canonicalJson(input);
}

/** Hex HMAC-SHA-256 of the input under `k`. */
export async function inputHmac(k: InputHashKey, input: unknown): Promise<string> {
  return hex(await crypto.subtle.sign('HMAC', k.key, encoder.encode(hashedInput(input))));
}

/** The event fields for the input hash: both, or neither when no key is configured. */
export async function inputHashFields(
  secret: string | undefined,
  input: unknown,
): Promise<{ input_hmac?: string; input_hmac_key_id?: string }> {
  if (!secret) return {};
  const k = await inputHashKey(secret);
  return { input_hmac: await inputHmac(k, input), input_hmac_key_id: k.id };
}

function hex(buf: ArrayBuffer): string {
  return toHex(new Uint8Array(buf));
}
