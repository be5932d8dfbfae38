/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): parsing `traceparent` and
 * `tracestate` strictly, and minting ids. Pure functions, no I/O.
 *
 * Strict means: lowercase hex only, the exact field lengths, version `ff` refused, all-zero
 * trace and parent ids refused, version `00` exactly 55 characters (a future version may carry
 * more fields after a `-`, which are ignored as the spec requires). Anything else is "invalid",
 * and the caller starts a new trace. A `tracestate` that breaks the list grammar, repeats a key or
 * has more than 32 members is dropped whole rather than half-repaired.
 */
import { toHex } from '../hash';

export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** The caller's span: 16 lowercase hex digits, not all zero. */
  parentId: string;
  /** trace-flags; bit 0 is `sampled`. */
  flags: number;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

/** The length of a version-00 `traceparent`: `00-` + 32 + `-` + 16 + `-` + 2. */
export const TRACEPARENT_LENGTH = 55;
/** Most list members a `tracestate` may carry (spec §3.3.1.1). */
export const MAX_TRACESTATE_MEMBERS = 32;
/** Longest `tracestate` vakt keeps; the spec asks vendors to propagate at least 512 characters. */
export const MAX_TRACESTATE_LENGTH = 512;

/** Parses a `traceparent` header value; null when it is absent or invalid in any way. */
export function parseTraceparent(value: string | null | undefined): TraceParent | null {
  if (!value || value.length < TRACEPARENT_LENGTH) return null;
  const version = value.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff') return null;
  // Version 00 has exactly four fields; a later version may append `-…` fields we cannot read.
  if (
    version === '00'
      ? value.length !== TRACEPARENT_LENGTH
      : value.length > TRACEPARENT_LENGTH && value[TRACEPARENT_LENGTH] !== '-'
  )
    return null;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return null;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX32.test(traceId) || traceId === ZERO32) return null;
  if (!HEX16.test(parentId) || parentId === ZERO16) return null;
  if (!HEX2.test(flags)) return null;
  return { traceId, parentId, flags: parseInt(flags, 16) };
}

// key = simple-key / multi-tenant-key (spec §3.3.1.3.1)
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Parses a `tracestate` header value into a normalised string (members joined by `,`, empty
 * members dropped), or null when it is absent, invalid, has more than 32 members or is longer
 * than {@link MAX_TRACESTATE_LENGTH}.
 */
export function parseTracestate(value: string | null | undefined): string | null {
  if (!value || value.length > MAX_TRACESTATE_LENGTH * 2) return null;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue; // empty list members are allowed and ignored
    const eq = member.indexOf('=');
    if (eq <= 0) return null;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(val) || keys.has(key)) return null;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return null;
  const out = members.join(',');
  return out.length > MAX_TRACESTATE_LENGTH ? null : out;
}

/** `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * Random bytes drawn in blocks: one `getRandomValues` per {@link POOL_BYTES} bytes instead of one
 * per id (every request takes a trace id and a span id). Each byte is handed out once. Filled on
 * first use: Workers refuse random values at global scope.
 */
const POOL_BYTES = 4096;
let pool: Uint8Array | undefined;
let poolAt = POOL_BYTES;

function randomHex(bytes: number, zero: string): string {
  let hex = zero;
  // All zeros is invalid; with 64+ random bits a retry essentially never happens.
  while (hex === zero) {
    if (!pool || poolAt + bytes > POOL_BYTES) {
      pool = crypto.getRandomValues(pool ?? new Uint8Array(POOL_BYTES));
      poolAt = 0;
    }
    hex = toHex(pool, poolAt, poolAt + bytes);
    poolAt += bytes;
  }
  return hex;
}

/** A fresh random trace id (16 bytes, as the spec recommends). */
export const newTraceId = (): string => randomHex(16, ZERO32);
/** A fresh random span id (8 bytes). */
export const newSpanId = (): string => randomHex(8, ZERO16);

/**
 * Whether a root trace is sampled at `ratio`, decided by the trace id alone (like OpenTelemetry's
 * TraceIdRatioBased sampler: the last 8 hex digits read as a fraction), so every hop that uses the
 * same rule agrees.
 */
export function sampledAt(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return parseInt(traceId.slice(24), 16) / 0x100000000 < ratio;
}
