/**
 * Per-isolate "denied until" cache. After its object denies a key, further requests from that key
 * in this isolate are answered here until the object would admit again, so a client hammering
 * after a 429 costs no RPC and cannot overload its object.
 *
 * Why it cannot over-admit: it only ever denies; every admission is decided by the object.
 * Why it cannot wrongly deny:
 * - An entry is valid only for the rule it was recorded under. A changed policy (seen by this
 *   isolate through its key cache) misses, and the object decides under the new rule at once.
 * - It denies only until the `Retry-After` instant the object itself announced (measured from when
 *   this isolate received the answer, which is after the object decided), and at most
 *   `maxTtlMs` — the bound on any staleness this cache can add.
 * - Only real denials are recorded, never a fail-closed answer.
 * Bounded: at most `maxEntries` keys; the oldest entry goes first.
 */
import type { RateLimitDecision, RateLimitRule } from './gcra';

interface Entry {
  limit: number;
  window_s: number;
  /** When the object said the next request may be admitted (ms, this isolate's clock). */
  retryAt: number;
  /** When this entry stops answering (≤ retryAt). */
  expires: number;
}

export const DENY_CACHE_MAX_ENTRIES = 10_000;
export const DENY_CACHE_MAX_TTL_MS = 5_000;

export class DenyCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly maxEntries = DENY_CACHE_MAX_ENTRIES,
    readonly maxTtlMs = DENY_CACHE_MAX_TTL_MS,
  ) {}

  /** A denial for `keyId` under `rule` at `now`, or undefined when the object must decide. */
  get(keyId: string, rule: RateLimitRule, now: number): RateLimitDecision | undefined {
    const e = this.#entries.get(keyId);
    if (!e) return undefined;
    if (now >= e.expires || e.limit !== rule.limit || e.window_s !== rule.window_s) {
      this.#entries.delete(keyId);
      return undefined;
    }
    // Never earlier than what the object announced: count down to its instant, rounding up.
    const wait = Math.max(1, Math.ceil((e.retryAt - now) / 1000));
    return { allowed: false, limit: e.limit, remaining: 0, reset_s: wait, retry_after_s: wait };
  }

  /** Records a decision from the object; only denials are kept. */
  record(keyId: string, rule: RateLimitRule, decision: RateLimitDecision, now: number): void {
    if (decision.allowed) {
      this.#entries.delete(keyId);
      return;
    }
    const retryAt = now + decision.retry_after_s * 1000;
    this.#entries.delete(keyId); // re-insert at the end: oldest-first eviction
    this.#entries.set(keyId, {
      limit: rule.limit,
      window_s: rule.window_s,
      retryAt,
      expires: Math.min(retryAt, now + this.maxTtlMs),
    });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
