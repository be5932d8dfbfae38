/** The lease-aware bucket, pure: no workerd, time is an argument. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acquire, EMPTY_BUCKET, outstandingAt, release, type BucketState } from './bucket';
import { gcra, type GcraState, type RateLimitRule } from './gcra';

const T0 = 1_764_000_000_123;

const one = (rule: RateLimitRule, state: BucketState, now: number) =>
  acquire({ rule, take: 1, lease: 0, leaseMs: 0, maxOutstanding: 0, leaseId: 'x' }, state, now);

function leaseOf(
  rule: RateLimitRule,
  state: BucketState,
  now: number,
  n: number,
  opts: { take?: 0 | 1; leaseMs?: number; max?: number; id?: string } = {},
) {
  return acquire(
    {
      rule,
      take: opts.take ?? 1,
      lease: n,
      leaseMs: opts.leaseMs ?? 1000,
      maxOutstanding: opts.max ?? rule.limit,
      leaseId: opts.id ?? `l${now}`,
    },
    state,
    now,
  );
}

/** n·W ≤ (t_j − t_i)·L + W·L for every pair of sorted admission times: GCRA's bound, exact. */
function assertAdmissionBound(times: number[], rule: RateLimitRule): void {
  const t = [...times].sort((a, b) => a - b);
  const W = rule.window_s * 1000;
  for (let i = 0; i < t.length; i++) {
    for (let j = i; j < t.length; j++) {
      const n = j - i + 1;
      if (n * W > (t[j]! - t[i]!) * rule.limit + W * rule.limit) {
        throw new Error(`${n} admissions in [${t[i]! - T0}, ${t[j]! - T0}] ms exceed the bound`);
      }
    }
  }
}

describe('acquire without leases is GCRA', () => {
  it('decides exactly like gcra() for any request sequence (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          limit: fc.integer({ min: 1, max: 1000 }),
          window_s: fc.integer({ min: 1, max: 3600 }),
        }),
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 200 }),
        (rule, gaps) => {
          let g: GcraState | null = null;
          let b: BucketState = EMPTY_BUCKET;
          let now = T0;
          for (const gap of gaps) {
            now += gap;
            const expected = gcra(rule, g, now);
            const got = one(rule, b, now);
            expect(got.decision).toEqual(expected.decision);
            g = expected.state;
            b = got.state;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('leases', () => {
  const rule = { limit: 10, window_s: 10 }; // one admission per second

  it('takes the lease out of the bucket at once and reports the bucket without it', () => {
    const out = leaseOf(rule, EMPTY_BUCKET, T0, 4);
    expect(out.lease).toEqual({ id: `l${T0}`, tokens: 4, expires_ms: T0 + 1000 });
    expect(out.decision).toMatchObject({ allowed: true, remaining: 5 });
    expect(outstandingAt(out.state, rule, T0 + 999)).toBe(4);
    expect(outstandingAt(out.state, rule, T0 + 1000)).toBe(0);
  });

  it('never grants more than the bucket holds, nor past the outstanding cap', () => {
    let s = leaseOf(rule, EMPTY_BUCKET, T0, 100, { max: 3 });
    expect(s.lease?.tokens).toBe(3); // capped by maxOutstanding
    s = leaseOf(rule, s.state, T0, 100, { max: 3, id: 'b' });
    expect(s.lease).toBeNull(); // cap reached; the calling request is still admitted
    expect(s.decision.allowed).toBe(true);
    s = leaseOf(rule, s.state, T0, 100, { max: 100, id: 'c' });
    expect(s.lease?.tokens).toBe(4); // 10 − 3 leased − 2 taken − 1 for this request
    const denied = leaseOf(rule, s.state, T0, 5, { max: 100, id: 'd' });
    expect(denied.decision.allowed).toBe(false);
    expect(denied.state).toBe(s.state);
  });

  it('holds the floor: a lease keeps the bucket from refilling into admissions it may still spend', () => {
    // Lease 5 for 20 s on a 10/10 s bucket, spent by nobody yet. A plain GCRA bucket would be full
    // again after 5 s; with the lease outstanding at most 10 − 5 may be taken until it expires,
    // and from the expiry on the bucket keeps refilling at its rate (no jump).
    const g = leaseOf(rule, EMPTY_BUCKET, T0, 5, { take: 0, leaseMs: 20_000 });
    const burst = (at: number) => {
      let s = g.state;
      let n = 0;
      for (let i = 0; i < 20; i++) {
        const r = one(rule, s, at);
        if (r.decision.allowed) n++;
        s = r.state;
      }
      return { n, s };
    };
    expect(burst(T0 + 9_000).n).toBe(5);
    expect(burst(T0 + 19_999).n).toBe(5);
    expect(burst(T0 + 20_000).n).toBe(5);
    expect(burst(T0 + 22_000).n).toBe(7);
    expect(burst(T0 + 25_000).n).toBe(10);
    // After taking the 5 at 9 s the bucket refills one per second, beside the lease.
    const { s } = burst(T0 + 9_000);
    expect(one(rule, s, T0 + 9_000).decision).toMatchObject({ allowed: false, retry_after_s: 1 });
    expect(one(rule, s, T0 + 9_999).decision.allowed).toBe(false);
    expect(one(rule, s, T0 + 10_000).decision.allowed).toBe(true);
  });

  it('takes unspent admissions back while the lease is live, once', () => {
    const g = leaseOf(rule, EMPTY_BUCKET, T0, 6, { id: 'L' });
    expect(g.decision.remaining).toBe(3);
    const r = release(g.state, rule, 'L', 4, T0 + 500); // 2 of 6 were spent
    expect(r.returned).toBe(4);
    expect(outstandingAt(r.state, rule, T0 + 500)).toBe(0);
    expect(one(rule, r.state, T0 + 500).decision.remaining).toBe(6); // 10 − 1 − 2 spent − this one
    const again = release(r.state, rule, 'L', 4, T0 + 600);
    expect(again.returned).toBe(0);
    expect(again.state).toBe(r.state);
  });

  it('counts a lease’s spent admissions as admitted at its return (a spend just before it)', () => {
    // The property test's counterexample: 1 per s, a lease of 1 spent at 277 ms and closed then.
    const r1 = { limit: 1, window_s: 1 };
    const g = leaseOf(r1, EMPTY_BUCKET, T0, 1, { id: 'L', take: 0, leaseMs: 278 });
    const closed = release(g.state, r1, 'L', 0, T0 + 277);
    expect(one(r1, closed.state, T0 + 1000).decision.allowed).toBe(false);
    expect(one(r1, closed.state, T0 + 1276).decision.allowed).toBe(false);
    expect(one(r1, closed.state, T0 + 1277).decision.allowed).toBe(true);
  });

  it('refuses a return after expiry and never gives back more than was leased', () => {
    const g = leaseOf(rule, EMPTY_BUCKET, T0, 6, { id: 'L' });
    expect(release(g.state, rule, 'L', 6, T0 + 1000).returned).toBe(0);
    expect(release(g.state, rule, 'L', 99, T0 + 10).returned).toBe(6);
    expect(release(g.state, rule, 'nope', 3, T0 + 10).returned).toBe(0);
  });

  it('reports reset_s as the instant the bucket is full with the floor held to each expiry', () => {
    const g = leaseOf({ limit: 1000, window_s: 1 }, EMPTY_BUCKET, T0, 10, { leaseMs: 5000 });
    // 11 admissions decay in 11 ms, but the 10 leased ones count until the lease expires at 5 s.
    expect(g.decision.reset_s).toBe(6);
  });

  it('converts outstanding leases under a changed rule by count', () => {
    const g = leaseOf({ limit: 100, window_s: 60 }, EMPTY_BUCKET, T0, 20, { take: 0 });
    // Lowered to 10: 20 admissions outstanding exceed it; nothing until the lease expires.
    const lowered = one({ limit: 10, window_s: 60 }, g.state, T0 + 1);
    expect(lowered.decision.allowed).toBe(false);
    // At the expiry (999 ms on) the debt is one full new window, then one interval (6 s) passes.
    expect(lowered.decision.retry_after_s).toBe(7);
    expect(one({ limit: 10, window_s: 60 }, g.state, T0 + 6_999).decision.allowed).toBe(false);
    expect(one({ limit: 10, window_s: 60 }, g.state, T0 + 7_000).decision.allowed).toBe(true);
  });
});

/**
 * Simulated isolates against one bucket: each asks for leases of random size, spends them at
 * random moments before the expiry (often at the last millisecond, the adversarial case), and
 * returns or abandons what is left. Every admission — by the bucket or from a lease — is recorded
 * with its time, and GCRA's bound must hold over every interval.
 */
describe('never over-admits, whatever isolates do with their leases (property)', () => {
  type Action =
    | { kind: 'request'; isolate: number; lease: number }
    | { kind: 'prefetch'; isolate: number; lease: number }
    | { kind: 'spend'; isolate: number; late: boolean }
    | { kind: 'burst'; isolate: number }
    | { kind: 'return'; isolate: number };
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({
      kind: fc.constant('request' as const),
      isolate: fc.integer({ min: 0, max: 5 }),
      lease: fc.integer({ min: 0, max: 30 }),
    }),
    fc.record({
      kind: fc.constant('prefetch' as const),
      isolate: fc.integer({ min: 0, max: 5 }),
      lease: fc.integer({ min: 1, max: 30 }),
    }),
    fc.record({
      kind: fc.constant('spend' as const),
      isolate: fc.integer({ min: 0, max: 5 }),
      late: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('burst' as const), isolate: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('return' as const), isolate: fc.integer({ min: 0, max: 5 }) }),
  );

  it('holds GCRA’s bound over every interval', () => {
    fc.assert(
      fc.property(
        fc.record({
          limit: fc.integer({ min: 1, max: 60 }),
          window_s: fc.integer({ min: 1, max: 20 }),
        }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), action), {
          minLength: 1,
          maxLength: 250,
        }),
        (rule, leaseMs, maxOutstanding, steps) => {
          let state: BucketState = EMPTY_BUCKET;
          let now = T0;
          let n = 0;
          const admitted: number[] = [];
          // `busyUntil`: a late spend happens at that instant, so the isolate cannot have returned the
          // lease before it (a return is the isolate's promise never to spend the lease again).
          const held: { id: string; left: number; expires: number; busyUntil?: number }[][] = [
            [],
            [],
            [],
            [],
            [],
            [],
          ];
          const grant = (isolate: number, take: 0 | 1, lease: number) => {
            const out = acquire(
              { rule, take, lease, leaseMs, maxOutstanding, leaseId: `L${n++}` },
              state,
              now,
            );
            state = out.state;
            if (take === 1 && out.decision.allowed) admitted.push(now);
            if (out.lease) {
              expect(out.lease.tokens).toBeLessThanOrEqual(lease);
              held[isolate]!.push({
                id: out.lease.id,
                left: out.lease.tokens,
                expires: out.lease.expires_ms,
              });
            }
            expect(outstandingAt(state, rule, now)).toBeLessThanOrEqual(
              Math.max(maxOutstanding, 0),
            );
          };
          for (const [gap, a] of steps) {
            now += gap;
            const mine = held[a.isolate]!;
            switch (a.kind) {
              case 'request': {
                const l = mine.find((x) => x.left > 0 && now < x.expires);
                if (l) {
                  l.left--;
                  admitted.push(now);
                } else grant(a.isolate, 1, a.lease);
                break;
              }
              case 'prefetch':
                grant(a.isolate, 0, a.lease);
                break;
              case 'spend':
                // Spend everything held, either now or at the last legal millisecond.
                for (const l of mine) {
                  const at = a.late ? l.expires - 1 : now;
                  if (at < now || at >= l.expires) continue;
                  for (; l.left > 0; l.left--) admitted.push(at);
                  l.busyUntil = Math.max(l.busyUntil ?? 0, at);
                }
                break;
              case 'burst':
                // Everything the bucket will give right now, one request at a time.
                for (let i = 0; i < 100; i++) {
                  const before = admitted.length;
                  grant(a.isolate, 1, 0);
                  if (admitted.length === before) break;
                }
                break;
              case 'return':
                for (const l of mine.splice(0)) {
                  if ((l.busyUntil ?? 0) > now) {
                    mine.push(l); // still spending (later in time): returned on a later step
                    continue;
                  }
                  // Returns may arrive after the expiry; the bucket must refuse those.
                  state = release(state, rule, l.id, l.left, now).state;
                }
                break;
            }
          }
          assertAdmissionBound(admitted, rule);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
