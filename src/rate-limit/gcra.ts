/**
 * GCRA (generic cell rate algorithm): an exact token bucket with O(1) state — one instant, the
 * theoretical arrival time (TAT). `limit` requests per `window_s` may arrive in one burst; after
 * that they are admitted at one per `window_s / limit`. There are no window boundaries, so no
 * double burst at a boundary. Pure: time is an argument, so it is tested without workerd or sleeps.
 *
 * Exactness. `window / limit` is rarely a whole number of milliseconds (60 000 ms / 7), and
 * floating-point TATs near `Date.now()` (~1.7e12) carry only ~2.4e-4 ms of precision, enough to
 * wrongly deny the last request of a burst. So all arithmetic is on integers in units of
 * `1/limit` ms: one request costs `window_ms` units and the bucket holds `window_ms × limit`
 * units. With the policy bounds below every intermediate value stays under 2^53.
 *
 * The TAT is kept as `tat_ms + tat_rem / limit` ms, so the stored numbers are integers too.
 */

export interface RateLimitRule {
  limit: number;
  window_s: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests that could still be admitted right now. */
  remaining: number;
  /**
   * Seconds until the quota is fully restored. On a denial: seconds until the next request is
   * admitted, equal to `Retry-After` (the draft: it must not name an earlier instant than `t`).
   */
  reset_s: number;
  /** Seconds to wait before the next request can be admitted (0 when allowed). Rounded up. */
  retry_after_s: number;
}

/** What the object persists: the TAT, expressed under the rule that produced it. */
export interface GcraState {
  /** Whole milliseconds of the TAT (Unix epoch). */
  tat_ms: number;
  /** The fraction of a millisecond, in units of `1/limit` ms (0 ≤ tat_rem < limit). */
  tat_rem: number;
  limit: number;
  window_s: number;
}

export interface GcraResult {
  decision: RateLimitDecision;
  /** The state to persist. Identical (`===`) to the input state when nothing changed. */
  state: GcraState | null;
}

/**
 * Rate-limit rule bounds, also the policy schema's (src/governance/policy.ts imports them); checked
 * here too because the object is an RPC boundary.
 */
export const MAX_LIMIT = 1_000_000;
export const MAX_WINDOW_S = 86_400;

export function assertRule(rule: RateLimitRule): void {
  const ok =
    Number.isInteger(rule.limit) &&
    rule.limit >= 1 &&
    rule.limit <= MAX_LIMIT &&
    Number.isInteger(rule.window_s) &&
    rule.window_s >= 1 &&
    rule.window_s <= MAX_WINDOW_S;
  if (!ok) {
    throw new RangeError(
      `rate-limit rule must have integer limit 1..${MAX_LIMIT} and window_s 1..${MAX_WINDOW_S}`,
    );
  }
}

/** Decides one request at `now` (integer ms) given the stored state (null when none). */
export function gcra(rule: RateLimitRule, stored: GcraState | null, now: number): GcraResult {
  assertRule(rule);
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be integer ms');
  const L = rule.limit;
  const cost = rule.window_s * 1000; // one request, in units of 1/L ms
  const capacity = cost * L; // one full window
  const debt = debtUnits(stored, rule, now);

  const allowed = debt + cost <= capacity;
  const newDebt = allowed ? debt + cost : debt;
  const remaining = Math.floor((capacity - newDebt) / cost);
  const retry_after_s = allowed ? 0 : Math.ceil((debt + cost - capacity) / (L * 1000));
  const reset_s = allowed ? Math.ceil(newDebt / (L * 1000)) : retry_after_s;
  const decision: RateLimitDecision = { allowed, limit: L, remaining, reset_s, retry_after_s };
  if (!allowed) return { decision, state: stored };
  return {
    decision,
    state: {
      tat_ms: now + Math.floor(newDebt / L),
      tat_rem: newDebt % L,
      limit: L,
      window_s: rule.window_s,
    },
  };
}

/**
 * The bucket's debt at `now` in units of 1/`rule.limit` ms: how far the TAT lies ahead of now,
 * clamped to [0, `cap`] — one window unless the caller allows more (the token quota's overdraft,
 * token-bucket.ts).
 *
 * A changed rule keeps the *number of requests* still counted against the key: a debt of k
 * request-costs under the old rule becomes k request-costs under the new one (rounded up, so a
 * change never admits a request the exact conversion would not). Raising the limit therefore
 * frees the difference at once; lowering it below what was used empties the bucket, and the clamp
 * makes a key wait at most one interval of the new rule, never longer than one new window.
 */
export function debtUnits(
  stored: GcraState | null,
  rule: RateLimitRule,
  now: number,
  cap: number = rule.window_s * 1000 * rule.limit,
): number {
  if (!stored) return 0;
  // Debt under the stored rule, in units of 1/stored.limit ms. tat_ms - now ≤ one stored window
  // (plus clock skew), so this stays far below 2^53.
  const old = (stored.tat_ms - now) * stored.limit + stored.tat_rem;
  if (old <= 0) return 0;
  if (stored.limit === rule.limit && stored.window_s === rule.window_s) {
    return Math.min(old, cap);
  }
  // old / (stored window_ms) requests, times the new cost (window_ms units): exact in BigInt.
  const num = BigInt(old) * BigInt(rule.window_s * 1000);
  const den = BigInt(stored.window_s * 1000);
  const converted = (num + den - 1n) / den;
  return converted >= BigInt(cap) ? cap : Number(converted);
}
