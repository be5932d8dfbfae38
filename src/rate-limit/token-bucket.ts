/**
 * The key's token quota: GCRA (gcra.ts) where a request costs its token count — `tokens` per
 * `window_s`, refilled continuously, no window boundaries. Pure (time is an argument); the
 * RATE_LIMITER object (rate-limiter.ts) keeps this bucket's state beside the request bucket's.
 *
 * No leases: a request's cost is known only after counting, and charging it exactly in the object
 * — one round trip, only for keys with a `token_limit` — is what makes the quota hold across
 * isolates. The object runs each charge to completion before the next, so concurrent requests can
 * never over-admit.
 *
 * Units are gcra.ts's with `limit = tokens`: one token costs `window_ms` units and the bucket holds
 * `window_ms × tokens` units. With the policy bounds (tokens ≤ 1e8, window ≤ 86 400 s) that is at
 * most 8.64e15 < 2^53, and every comparison below is between values no larger than the capacity.
 * A changed quota keeps the number of tokens still counted (debtUnits), so it applies at once.
 *
 * Overdraft. Output tokens are reported after the model answered (POST /v1/usage, output checks):
 * the call happened, so they are charged even past the quota (`chargeUsage`) and the bucket goes
 * into debt — later requests are refused until it drains below quota − their size. The debt is
 * capped at one window beyond the quota (`maxDebtUnits`: a key waits at most two windows), so
 * one absurd report cannot lock a key for days, and so every value stays below 2^53.
 */
import { debtUnits, type GcraState } from './gcra';

export interface TokenRule {
  tokens: number;
  window_s: number;
}

export interface TokenDecision {
  allowed: boolean;
  /** The request alone needs more tokens than the whole quota: it can never be admitted. */
  too_large: boolean;
  limit: number;
  /** Tokens that could still be charged right now. */
  remaining: number;
  /** Seconds until the quota is fully restored (on a refusal: until this request would fit). */
  reset_s: number;
  /** Seconds until a request of this size fits (0 when allowed or too large). Rounded up. */
  retry_after_s: number;
}

/** Token rule bounds, also the policy schema's (src/governance/policy.ts imports them). */
export const MAX_TOKENS = 100_000_000;
export const MAX_TOKEN_WINDOW_S = 86_400;

export function assertTokenRule(rule: TokenRule): void {
  const ok =
    Number.isInteger(rule.tokens) &&
    rule.tokens >= 1 &&
    rule.tokens <= MAX_TOKENS &&
    Number.isInteger(rule.window_s) &&
    rule.window_s >= 1 &&
    rule.window_s <= MAX_TOKEN_WINDOW_S;
  if (!ok) {
    throw new RangeError(
      `token rule must have integer tokens 1..${MAX_TOKENS} and window_s 1..${MAX_TOKEN_WINDOW_S}`,
    );
  }
}

/**
 * The most debt the token bucket can carry, in gcra.ts units: the quota plus one more quota of
 * overdraft, but below 2^53 with a margin (2^48 units, minutes of clock skew between charges) —
 * so quotas above ~4.4e15 units (more than 51 M tokens per day) get a smaller overdraft; the
 * largest the policy allows still gets ~1 M tokens. The arithmetic on debts only subtracts from
 * or compares with this bound, so it stays exact.
 */
export function maxDebtUnits(rule: TokenRule): number {
  const capacity = rule.window_s * 1000 * rule.tokens;
  return Math.min(2 * capacity, Number.MAX_SAFE_INTEGER - 2 ** 48);
}

/** What a usage charge did to the quota. */
export interface UsageCharge {
  limit: number;
  /** Tokens that could be charged right now (0 while in debt). */
  remaining: number;
  /** Tokens owed beyond the quota after this charge (0 when it fit). */
  overdraft: number;
  /** Tokens of this charge dropped by the overdraft cap (0 normally). */
  forgiven: number;
  /** Seconds until the quota is fully restored. */
  reset_s: number;
}

/**
 * Charges `n` reported output tokens at `now` unconditionally: past the quota they become debt
 * (the overdraft, capped at `maxDebtUnits`). A charge of 0 changes nothing.
 */
export function chargeUsage(
  rule: TokenRule,
  stored: GcraState | null,
  n: number,
  now: number,
): { charge: UsageCharge; state: GcraState | null } {
  assertTokenRule(rule);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('tokens must be an integer ≥ 0');
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be integer ms');
  const L = rule.tokens;
  const cost = rule.window_s * 1000;
  const capacity = cost * L;
  const max = maxDebtUnits(rule);
  const debt = debtUnits(stored, { limit: L, window_s: rule.window_s }, now, max);
  // n ≤ room / cost keeps n × cost below 2^53 whatever n the caller sends.
  const fits = Math.floor((max - debt) / cost);
  const newDebt = n <= fits ? debt + n * cost : max;
  const charged = n <= fits ? n : (newDebt - debt) / cost;
  const charge: UsageCharge = {
    limit: L,
    remaining: Math.max(0, Math.floor((capacity - newDebt) / cost)),
    overdraft: Math.max(0, Math.ceil((newDebt - capacity) / cost)),
    forgiven: n - Math.floor(charged),
    reset_s: Math.ceil(newDebt / (L * 1000)),
  };
  if (newDebt === debt) return { charge, state: stored };
  return {
    charge,
    state: {
      tat_ms: now + Math.floor(newDebt / L),
      tat_rem: newDebt % L,
      limit: L,
      window_s: rule.window_s,
    },
  };
}

/**
 * Charges `n` tokens at `now` (integer ms) if they fit. A refusal changes nothing (`state` is the
 * input, `===`), nor does a charge of 0.
 */
export function chargeTokens(
  rule: TokenRule,
  stored: GcraState | null,
  n: number,
  now: number,
): { decision: TokenDecision; state: GcraState | null } {
  assertTokenRule(rule);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('tokens must be an integer ≥ 0');
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be integer ms');
  const L = rule.tokens;
  const cost = rule.window_s * 1000; // one token, in units of 1/L ms
  const capacity = cost * L;
  const debt = debtUnits(stored, { limit: L, window_s: rule.window_s }, now, maxDebtUnits(rule));
  // Negative while a usage report holds the bucket in overdraft.
  const free = capacity - debt;
  const remaining = Math.max(0, Math.floor(free / cost));
  const reset = (d: number) => Math.ceil(d / (L * 1000));
  if (n > L) {
    const decision = { allowed: false, too_large: true, limit: L, remaining, reset_s: reset(debt) };
    return { decision: { ...decision, retry_after_s: 0 }, state: stored };
  }
  const need = n * cost; // ≤ capacity
  if (need > free) {
    // The debt decays by L units per ms; wait until `need` fits.
    const retry_after_s = Math.max(1, Math.ceil((need - free) / (L * 1000)));
    return {
      decision: {
        allowed: false,
        too_large: false,
        limit: L,
        remaining,
        reset_s: retry_after_s,
        retry_after_s,
      },
      state: stored,
    };
  }
  const newDebt = debt + need;
  const decision: TokenDecision = {
    allowed: true,
    too_large: false,
    limit: L,
    remaining: Math.floor((capacity - newDebt) / cost),
    reset_s: reset(newDebt),
    retry_after_s: 0,
  };
  if (n === 0) return { decision, state: stored };
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
