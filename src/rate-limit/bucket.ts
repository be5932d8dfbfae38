/**
 * The key's bucket with leases: GCRA (gcra.ts) plus admissions handed to isolates in advance.
 * Pure — time is an argument — so the object (rate-limiter.ts) stays thin and the protocol's
 * safety is property-tested in Node (bucket.test.ts).
 *
 * A lease of n admissions is taken out of the bucket at once (the TAT advances by n costs) and
 * may be spent by its isolate at any moment until it expires. Spending later than the grant is
 * what could over-admit: a plain token bucket keeps refilling while the isolate still holds
 * admissions it took earlier, so a burst of leased admissions at the end of the lease plus a
 * full bucket would exceed the limit. The invariant that prevents it, in admissions:
 *
 *     bucket + outstanding ≤ limit          (outstanding = leased, not expired, not returned)
 *
 * i.e. the bucket's debt never decays below `outstanding × cost` (the *floor*). Then for any
 * interval [a, b] the admissions in it are at most what was outstanding at `a`, plus what the
 * bucket held at `a`, plus its refill — at most `limit + (b − a) · limit / window`, GCRA's own
 * bound. Each lease is counted as outstanding in full until it expires or is returned, because
 * the object cannot know how much of it has been spent.
 *
 * The floor is applied lazily. Between two calls the debt decays linearly; at each lease's expiry
 * it was at least the floor just before that instant, so on the next call the debt is
 * max(decayed debt, floor_j − decay since expiry_j) over the leases that expired meanwhile.
 *
 * Returning a lease before it expires closes it: its unspent admissions go back to the bucket
 * (debt = max(debt, floor) − n costs; the floor ≥ that lease's own count makes this always
 * possible), and its spent admissions stay in the debt as if admitted at the return. After expiry a return is refused: those admissions left `outstanding` without entering
 * the bucket, and adding them back then could break the invariant.
 *
 * Units are those of gcra.ts (1/limit ms, integers). Every value is relative to `now`, so nothing
 * is multiplied by an epoch and everything stays far below 2^53.
 */
import {
  assertRule,
  debtUnits,
  type GcraState,
  type RateLimitDecision,
  type RateLimitRule,
} from './gcra';

export interface Lease {
  id: string;
  /** Admissions granted; all count as outstanding until the lease expires or is returned. */
  tokens: number;
  /** Object clock, ms. The isolate stops spending strictly before this instant. */
  expires_ms: number;
}

export interface BucketState {
  gcra: GcraState | null;
  /** Leases not known to have expired, ordered by `expires_ms`. */
  leases: readonly Lease[];
}

export interface AcquireInput {
  rule: RateLimitRule;
  /** 1: the calling request is admitted now (it needs one admission); 0: a lease only. */
  take: 0 | 1;
  /** Further admissions wanted as a lease (0 = none). */
  lease: number;
  /** Lease lifetime on the object's clock. */
  leaseMs: number;
  /** At most this many admissions may be outstanding in leases at once (all isolates). */
  maxOutstanding: number;
  /** Id for a new lease (the object supplies it; pure code has no randomness). */
  leaseId: string;
}

export interface AcquireOutput {
  /**
   * The calling request's answer. `remaining` counts the bucket only: admissions leased to any
   * isolate (including this one's new lease) are not in it.
   */
  decision: RateLimitDecision;
  /** The new lease, if any admissions were leased. */
  lease: Lease | null;
  /** State to persist; `===` the input when nothing changed (nothing granted). */
  state: BucketState;
}

export const EMPTY_BUCKET: BucketState = { gcra: null, leases: [] };

interface Settled {
  /** Debt in units at `now`, floors of expired leases applied, not yet the live floor. */
  debt: number;
  /** Leases still live at `now`, ordered by expiry. */
  live: Lease[];
  /** Admissions outstanding in live leases. */
  outstanding: number;
}

/** The bucket at `now`: expired leases folded into the debt and dropped. */
function settle(state: BucketState, rule: RateLimitRule, now: number): Settled {
  const L = rule.limit;
  const cost = rule.window_s * 1000;
  const capacity = cost * L;
  const windowMs = rule.window_s * 1000;
  let debt = debtUnits(state.gcra, rule, now);
  let outstanding = 0;
  for (const l of state.leases) outstanding += l.tokens;
  const live: Lease[] = [];
  for (const l of state.leases) {
    if (l.expires_ms > now) {
      live.push(l);
      continue;
    }
    // Just before it expired, the debt was at least the floor of everything then outstanding.
    // Long-expired leases cannot matter (their floor has decayed to nothing) and are skipped so
    // `(now − expiry) × L` cannot grow without bound.
    // Clamped to one window like any debt (debtUnits): after a lowered limit, leases granted under
    // the old one can exceed the new bucket; the key then waits at most one new window.
    const ago = now - l.expires_ms;
    if (ago < windowMs) debt = Math.max(debt, Math.min(outstanding * cost, capacity) - ago * L);
    outstanding -= l.tokens;
  }
  return { debt, live, outstanding };
}

/** Decides the calling request and/or grants a lease at `now` (integer ms, object clock). */
export function acquire(input: AcquireInput, state: BucketState, now: number): AcquireOutput {
  const { rule, take } = input;
  assertRule(rule);
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be integer ms');
  const L = rule.limit;
  const cost = rule.window_s * 1000;
  const capacity = cost * L;
  const s = settle(state, rule, now);
  const floor = s.outstanding * cost;
  const eff = Math.max(s.debt, floor);
  const free = eff >= capacity ? 0 : Math.floor((capacity - eff) / cost);

  if (take === 1 && free < 1) {
    const wait = msUntilFree(s, rule, now);
    const retry_after_s = Math.max(1, Math.ceil(wait / 1000));
    return {
      decision: { allowed: false, limit: L, remaining: 0, reset_s: retry_after_s, retry_after_s },
      lease: null,
      state,
    };
  }
  const room = Math.max(0, input.maxOutstanding - s.outstanding);
  const leased = Math.max(0, Math.min(input.lease, room, free - take));
  const granted = take + leased;
  if (granted === 0) {
    // A lease-only call that got nothing: no state change, and `allowed` says so.
    return {
      decision: {
        allowed: false,
        limit: L,
        remaining: free,
        reset_s: resetSeconds(eff, s.live, s.outstanding, rule, now),
        retry_after_s: 0,
      },
      lease: null,
      state,
    };
  }
  const newEff = eff + granted * cost;
  const lease: Lease | null =
    leased > 0 ? { id: input.leaseId, tokens: leased, expires_ms: now + input.leaseMs } : null;
  const live = lease ? [...s.live, lease].sort((a, b) => a.expires_ms - b.expires_ms) : s.live;
  const outstanding = s.outstanding + leased;
  return {
    decision: {
      allowed: true,
      limit: L,
      remaining: Math.floor((capacity - newEff) / cost),
      reset_s: resetSeconds(newEff, live, outstanding, rule, now),
      retry_after_s: 0,
    },
    lease,
    state: { gcra: toGcra(newEff, rule, now), leases: live },
  };
}

/**
 * Closes lease `id` at `now`, giving its `unused` admissions back. The isolate closes a lease when
 * it returns it and never spends it again, so nothing of it is outstanding any more: the spent part
 * counts as admitted at the return (it may have been spent just before), the unused part goes back
 * to the bucket. Accepted only
 * while the lease is live (see the module comment); a second return of the same lease finds
 * nothing, so a retried call cannot give anything back twice. Returns how many went back.
 */
export function release(
  state: BucketState,
  rule: RateLimitRule,
  id: string,
  unused: number,
  now: number,
): { returned: number; state: BucketState } {
  assertRule(rule);
  const s = settle(state, rule, now);
  const lease = s.live.find((l) => l.id === id);
  if (!lease) return { returned: 0, state };
  const n = Math.min(Math.max(0, Math.floor(unused)), lease.tokens);
  const cost = rule.window_s * 1000;
  // The lease's spent admissions may have been spent as late as now, so they must count as
  // admitted now: the floor of everything outstanding (this lease included) is applied first and
  // only the `n` unused come off it. Subtracting from the decayed debt alone would let the bucket
  // refill behind a spend made just before the return (over-admission, bucket.test.ts property).
  const floor = Math.min(s.outstanding * cost, cost * rule.limit);
  const debt = Math.max(0, Math.max(s.debt, floor) - n * cost);
  const live = s.live.filter((l) => l !== lease);
  return { returned: n, state: { gcra: toGcra(debt, rule, now), leases: live } };
}

/**
 * The bucket at `now`, changing nothing (the admin usage view): admissions free now, admissions
 * outstanding in live leases (counted as used: the object cannot know how much of them was spent),
 * and seconds until the bucket is full again with no further requests.
 */
export function peek(
  state: BucketState,
  rule: RateLimitRule,
  now: number,
): { remaining: number; leased: number; reset_s: number } {
  assertRule(rule);
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be integer ms');
  const cost = rule.window_s * 1000;
  const capacity = cost * rule.limit;
  const s = settle(state, rule, now);
  const eff = Math.max(s.debt, s.outstanding * cost);
  return {
    remaining: eff >= capacity ? 0 : Math.floor((capacity - eff) / cost),
    leased: s.outstanding,
    reset_s: resetSeconds(eff, s.live, s.outstanding, rule, now),
  };
}

/** Admissions outstanding in live leases at `now` (for the object's own bookkeeping and tests). */
export function outstandingAt(state: BucketState, rule: RateLimitRule, now: number): number {
  return settle(state, rule, now).outstanding;
}

function toGcra(debt: number, rule: RateLimitRule, now: number): GcraState {
  return {
    tat_ms: now + Math.floor(debt / rule.limit),
    tat_rem: debt % rule.limit,
    limit: rule.limit,
    window_s: rule.window_s,
  };
}

/**
 * Seconds until the bucket is full again with no further requests and no returns: the debt
 * decays, but not below the floor of each live lease until it expires. Without leases this is
 * GCRA's `ceil(debt / (L·1000))`.
 */
function resetSeconds(
  eff: number,
  live: readonly Lease[],
  outstanding: number,
  rule: RateLimitRule,
  now: number,
): number {
  const L = rule.limit;
  const cost = rule.window_s * 1000;
  let full = eff; // the instant (units after now) the debt reaches 0
  let out = outstanding;
  for (const l of live) {
    full = Math.max(full, (l.expires_ms - now) * L + Math.min(out * cost, cost * L));
    out -= l.tokens;
  }
  return Math.ceil(full / (L * 1000));
}

/**
 * Milliseconds from `now` until one admission is free (never earlier than true): walks the live
 * leases in expiry order, as the floor steps down at each expiry.
 */
function msUntilFree(s: Settled, rule: RateLimitRule, now: number): number {
  const L = rule.limit;
  const cost = rule.window_s * 1000;
  const limitDebt = cost * L - cost; // the most debt at which one more admission fits
  let t = 0; // ms after now
  let debt = s.debt; // natural debt at time t
  let out = s.outstanding;
  for (const l of s.live) {
    const until = l.expires_ms - now;
    if (out * cost <= limitDebt) {
      const at = t + Math.max(0, Math.ceil((debt - limitDebt) / L));
      if (at < until) return at;
    }
    // At the expiry: the debt decayed, but not below the floor held until then.
    debt = Math.max(debt - (until - t) * L, Math.min(out * cost, cost * L));
    t = until;
    out -= l.tokens;
  }
  return t + Math.max(0, Math.ceil((debt - limitDebt) / L));
}
