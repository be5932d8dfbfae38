/** The GCRA math and the deny cache, pure: no workerd, time is an argument. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DenyCache } from '../../src/rate-limit/deny-cache';
import { gcra, type GcraState, type RateLimitRule } from '../../src/rate-limit/gcra';

// A realistic epoch: float TATs lose sub-millisecond precision here, integer units must not.
const T0 = 1_764_000_000_123;

/** Runs `n` requests at `now`, threading the state; returns decisions and the final state. */
function burst(rule: RateLimitRule, n: number, now: number, state: GcraState | null = null) {
  const decisions = [];
  for (let i = 0; i < n; i++) {
    const r = gcra(rule, state, now);
    decisions.push(r.decision);
    state = r.state;
  }
  return { decisions, state };
}

const RULES: RateLimitRule[] = [
  { limit: 1, window_s: 1 },
  { limit: 3, window_s: 1 },
  { limit: 7, window_s: 60 }, // interval 8571.428… ms
  { limit: 60, window_s: 60 },
  { limit: 1000, window_s: 3 }, // interval 3 ms
  { limit: 999_983, window_s: 86_400 }, // prime limit at the policy bounds
];

describe('gcra', () => {
  it('answers the first request like the spec example (60/60 s → remaining 59, reset 1)', () => {
    expect(gcra({ limit: 60, window_s: 60 }, null, T0).decision).toEqual({
      allowed: true,
      limit: 60,
      remaining: 59,
      reset_s: 1,
      retry_after_s: 0,
    });
  });

  it.each(RULES)('admits exactly limit in a burst for $limit per $window_s s', (rule) => {
    const n = rule.limit;
    const { decisions } = burst(rule, n + 3, T0);
    const admitted = decisions.filter((d) => d.allowed).length;
    expect(admitted).toBe(rule.limit);
    // Each admission leaves one less (checked in a loop: a million-element toEqual is slow).
    const wrong = decisions.slice(0, n).findIndex((d, i) => d.remaining !== rule.limit - 1 - i);
    expect(wrong).toBe(-1);
    for (const d of decisions.slice(n)) {
      expect(d).toMatchObject({ allowed: false, remaining: 0 });
      expect(d.retry_after_s).toBeGreaterThanOrEqual(1);
      expect(d.reset_s).toBe(d.retry_after_s); // draft-10: t and Retry-After name one instant
    }
    // Reset after a full burst: the whole window.
    expect(decisions[n - 1]?.reset_s).toBe(rule.window_s);
  });

  it.each(RULES)(
    'admits again exactly one interval after a burst, never earlier ($limit per $window_s s)',
    (rule) => {
      const { decisions, state } = burst(rule, rule.limit + 1, T0);
      const denied = decisions.at(-1)!;
      // The exact next-allowed instant is T0 + window/limit ms; the first whole ms at or after it.
      const nextMs = Math.ceil((rule.window_s * 1000) / rule.limit);
      if (nextMs > 1) expect(gcra(rule, state, T0 + nextMs - 1).decision.allowed).toBe(false);
      expect(gcra(rule, state, T0 + nextMs).decision.allowed).toBe(true);
      // Retry-After is whole seconds rounded up: never earlier than the next-allowed instant.
      expect(denied.retry_after_s).toBe(Math.ceil(nextMs / 1000));
      expect(gcra(rule, state, T0 + denied.retry_after_s * 1000).decision.allowed).toBe(true);
    },
  );

  it('keeps admitting a client that sends at exactly the sustained rate (no drift)', () => {
    const rule = { limit: 7, window_s: 60 };
    let { state } = burst(rule, 7, T0);
    for (let k = 1; k <= 5000; k++) {
      const exact = T0 + Math.ceil((k * 60_000) / 7);
      if (exact - 1 > T0 + Math.ceil(((k - 1) * 60_000) / 7)) {
        expect(gcra(rule, state, exact - 1).decision.allowed, `early ${k}`).toBe(false);
      }
      const r = gcra(rule, state, exact);
      expect(r.decision.allowed, `request ${k}`).toBe(true);
      state = r.state;
    }
  });

  it('never admits more than limit + elapsed × limit / window (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          limit: fc.integer({ min: 1, max: 50 }),
          window_s: fc.integer({ min: 1, max: 120 }),
        }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
        (rule, gaps) => {
          let state: GcraState | null = null;
          let now = T0;
          const admitted: number[] = [];
          for (const gap of gaps) {
            now += gap;
            const r = gcra(rule, state, now);
            if (r.decision.allowed) admitted.push(now);
            state = r.state;
          }
          const W = rule.window_s * 1000;
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              const n = j - i + 1;
              // n ≤ L + (t_j − t_i)·L/W, in integers.
              expect(n * W).toBeLessThanOrEqual(
                (admitted[j]! - admitted[i]!) * rule.limit + W * rule.limit,
              );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves the state untouched on a denial', () => {
    const rule = { limit: 2, window_s: 10 };
    const { state } = burst(rule, 2, T0);
    expect(gcra(rule, state, T0 + 1).state).toBe(state);
  });

  it('refills fully after one window of silence', () => {
    const rule = { limit: 5, window_s: 10 };
    const { state } = burst(rule, 5, T0);
    expect(gcra(rule, state, T0 + 10_000).decision).toMatchObject({ allowed: true, remaining: 4 });
  });

  describe('a changed rule keeps the requests already counted', () => {
    it.each([
      {
        name: 'raising the limit frees the difference at once',
        from: { limit: 2, window_s: 3600 },
        used: 2,
        to: { limit: 5, window_s: 3600 },
        expected: { allowed: true, remaining: 2 },
      },
      {
        name: 'lowering the limit below what was used denies for one new interval only',
        from: { limit: 60, window_s: 60 },
        used: 30,
        to: { limit: 10, window_s: 60 },
        expected: { allowed: false, remaining: 0, retry_after_s: 6 },
      },
      {
        name: 'lengthening the window keeps the count and slows the refill',
        from: { limit: 60, window_s: 60 },
        used: 30,
        to: { limit: 60, window_s: 3600 },
        expected: { allowed: true, remaining: 29 },
      },
      {
        name: 'shortening the window keeps the count',
        from: { limit: 10, window_s: 3600 },
        used: 4,
        to: { limit: 10, window_s: 10 },
        expected: { allowed: true, remaining: 5 },
      },
    ])('$name', ({ from, used, to, expected }) => {
      const { state } = burst(from, used, T0);
      expect(gcra(to, state, T0).decision).toMatchObject(expected);
    });

    it('converts rounding up, never in the client’s favour', () => {
      // 1 of 3 per 1 s used (debt 1000/3 ms); under 7 per 1 s that is 1 request again.
      const { state } = burst({ limit: 3, window_s: 1 }, 1, T0);
      expect(gcra({ limit: 7, window_s: 1 }, state, T0).decision.remaining).toBe(5);
    });
  });

  it.each([
    { limit: 0, window_s: 60 },
    { limit: 1.5, window_s: 60 },
    { limit: 10, window_s: 0 },
    { limit: 10, window_s: 86_401 },
    { limit: 1_000_001, window_s: 60 },
  ])('rejects the invalid rule %o', (rule) => {
    expect(() => gcra(rule, null, T0)).toThrow(RangeError);
  });

  it('rejects a non-integer clock', () => {
    expect(() => gcra({ limit: 1, window_s: 1 }, null, T0 + 0.5)).toThrow(RangeError);
  });
});

describe('DenyCache', () => {
  const rule = { limit: 10, window_s: 60 };
  const denied = { allowed: false, limit: 10, remaining: 0, reset_s: 6, retry_after_s: 6 };

  it('answers a recorded denial, counting Retry-After down but never below the announced instant', () => {
    const cache = new DenyCache(100, 60_000);
    cache.record('k', rule, denied, T0);
    expect(cache.get('k', rule, T0)).toEqual(denied);
    expect(cache.get('k', rule, T0 + 1500)).toMatchObject({ retry_after_s: 5, reset_s: 5 });
    expect(cache.get('k', rule, T0 + 5999)).toMatchObject({ retry_after_s: 1 });
    expect(cache.get('k', rule, T0 + 6000)).toBeUndefined();
  });

  it('stops answering after its TTL even when the wait is longer', () => {
    const cache = new DenyCache(100, 2_000);
    cache.record('k', rule, denied, T0);
    expect(cache.get('k', rule, T0 + 1999)?.retry_after_s).toBe(5);
    expect(cache.get('k', rule, T0 + 2000)).toBeUndefined();
  });

  it('misses when the rule changed, and drops the entry', () => {
    const cache = new DenyCache();
    cache.record('k', rule, denied, T0);
    expect(cache.get('k', { limit: 20, window_s: 60 }, T0)).toBeUndefined();
    expect(cache.get('k', rule, T0)).toBeUndefined();
  });

  it('never stores an admission and clears a denial when one arrives', () => {
    const cache = new DenyCache();
    cache.record('k', rule, { ...denied, allowed: true, retry_after_s: 0 }, T0);
    expect(cache.size).toBe(0);
    cache.record('k', rule, denied, T0);
    cache.record('k', rule, { ...denied, allowed: true, retry_after_s: 0 }, T0);
    expect(cache.get('k', rule, T0)).toBeUndefined();
  });

  it('keeps separate keys apart and stays bounded, dropping the oldest', () => {
    const cache = new DenyCache(3);
    for (const k of ['a', 'b', 'c', 'd']) cache.record(k, rule, denied, T0);
    expect(cache.size).toBe(3);
    expect(cache.get('a', rule, T0)).toBeUndefined();
    expect(cache.get('d', rule, T0)).toEqual(denied);
    expect(cache.get('e', rule, T0)).toBeUndefined();
  });
});
