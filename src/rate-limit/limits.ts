/**
 * The lease protocol's numbers, in one place (docs/rate-limit.md explains each). Pure constants:
 * config.ts, the object and the isolate side all import them.
 */
import type { RateLimitRule } from './gcra';

/** Default lease lifetime (`RATE_LIMIT_LEASE_MS`): the bound for a revoke or policy change. */
export const DEFAULT_LEASE_MS = 1_000;
/**
 * The object keeps a lease (its floor, and the right to return it) this much longer than the
 * isolate may spend it, so a return sent at the isolate's expiry — or a lease whose grant arrived
 * too late to spend — still reaches a live lease over a slow link. Never extends spending.
 */
export const LEASE_RETURN_GRACE_MS = 3_000;
/** Longest lease lifetime the object accepts (and the configuration allows). */
export const MAX_LEASE_MS = 10_000;
/** Outstanding leased admissions are capped at this share of the limit, all isolates together. */
export const LEASE_MAX_SHARE = 0.05;
/** Below this many admissions of headroom a key is not leased at all (one call per request). */
export const LEASE_MIN_OUTSTANDING = 4;
/** How long a lease should last at the isolate's observed rate (sets its size). */
export const LEASE_TARGET_MS = 200;
/** The isolate stops spending a lease this long before its own estimate of the expiry. */
export const LEASE_CLOCK_MARGIN_MS = 50;
/** Unspent admissions are given back this long before the isolate's expiry estimate. */
export const LEASE_RETURN_MARGIN_MS = 250;
/** No leases (k = 1) while the isolate's round trip to the object exceeds this share of a lease. */
export const LEASE_MAX_RTT_SHARE = 0.5;
/** The most an isolate asks for in one lease (the object caps it further). */
export const LEASE_MAX_WANT = 10_000;

/**
 * The most admissions that may be outstanding in leases for `rule`, all isolates together
 * (0 = the key is never leased). The object enforces it; isolates use it to skip asking.
 */
export function maxOutstanding(rule: RateLimitRule): number {
  const n = Math.floor(rule.limit * LEASE_MAX_SHARE);
  return n >= LEASE_MIN_OUTSTANDING ? n : 0;
}
