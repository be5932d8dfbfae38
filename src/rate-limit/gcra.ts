/**
 * GCRA (generic cell rate algorithm): an exact token bucket with O(1) state — one timestamp, the
 * theoretical arrival time (TAT). `limit` requests per `window` may arrive in a burst; after
 * that they are admitted at one per `window / limit`. No window boundaries, so no double bursts.
 * Pure: time is an argument, so it is tested without workerd or sleeps.
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
  /** Seconds until the bucket is full again (quota fully restored). */
  reset_s: number;
  /** Seconds to wait before the next request can be admitted (0 when allowed). */
  retry_after_s: number;
}

export interface GcraResult {
  decision: RateLimitDecision;
  /** The TAT to store (unchanged when the request is denied). */
  tat: number;
}

/** Decides one request at `now` (ms) given the stored TAT (ms, 0 when none). */
export function gcra(rule: RateLimitRule, storedTat: number, now: number): GcraResult {
  const windowMs = rule.window_s * 1000;
  const interval = windowMs / rule.limit;
  const tat = Math.max(storedTat, now);
  const newTat = tat + interval;
  const allowed = newTat - now <= windowMs + 1e-9;
  const effectiveTat = allowed ? newTat : tat;
  const remaining = Math.max(0, Math.floor((windowMs - (effectiveTat - now)) / interval + 1e-9));
  const reset_s = Math.ceil((effectiveTat - now) / 1000);
  // Denied: the next request fits once TAT + interval - window <= now.
  const retry_after_s = allowed
    ? 0
    : Math.max(1, Math.ceil((tat + interval - windowMs - now) / 1000));
  return {
    decision: { allowed, limit: rule.limit, remaining, reset_s, retry_after_s },
    tat: effectiveTat,
  };
}
