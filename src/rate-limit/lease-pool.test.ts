/** The isolate's lease bookkeeping, pure: spending, sizing, expiry and returns. */
import { describe, expect, it } from 'vitest';
import {
  closeForReturn,
  held,
  install,
  LeasePool,
  leaseHorizonMs,
  spend,
  takeReturns,
  want,
} from './lease-pool';
import { LEASE_CLOCK_MARGIN_MS, LEASE_RETURN_MARGIN_MS, LEASE_TARGET_MS } from './limits';

const T0 = 1_764_000_000_000;
const rule = { limit: 1000, window_s: 60 };
const granted = (tokens: number, remaining = 500, reset_s = 30) => ({
  decision: { allowed: true, limit: 1000, remaining, reset_s, retry_after_s: 0 },
  lease: { id: `L${tokens}`, tokens, ttl_ms: 1000 },
});

describe('LeasePool', () => {
  it('asks for 1 (no lease) for a quiet key and more as the rate grows', () => {
    const pool = new LeasePool();
    let e = pool.entry('k', 'v1', rule, T0);
    expect(want(e, T0, 1000)).toBe(1);
    // 1 request per second: still no lease.
    for (let s = 1; s <= 5; s++) e = pool.entry('k', 'v1', rule, T0 + s * 1000);
    expect(want(e, T0 + 5000, 1000)).toBe(1);
    // 500 requests within 250 ms ≈ 667/s → a lease lasting LEASE_TARGET_MS at that rate.
    const t = T0 + 10_000;
    for (let i = 0; i < 500; i++) e = pool.entry('k', 'v1', rule, t + Math.floor(i / 2));
    const w = want(e, t + 250, 1000);
    expect(w).toBe(Math.floor((500 / 750) * LEASE_TARGET_MS));
    // A second of silence forgets the rate.
    e = pool.entry('k', 'v1', rule, t + 1500);
    expect(want(e, t + 1500, 1000)).toBe(1);
  });

  it('sizes a lease to outlast two round trips when the object is slow, within half its lifetime', () => {
    const pool = new LeasePool();
    let e = pool.entry('k', 'v1', rule, T0);
    // 401 requests in the current slot (one at T0, 400 at T0 + 1): 401 per 501 ms.
    for (let i = 0; i < 400; i++) e = pool.entry('k', 'v1', rule, T0 + 1);
    const perMs = 401 / 501;
    expect(want(e, T0 + 1, 1000)).toBe(Math.floor(perMs * LEASE_TARGET_MS));
    install(e, granted(0), T0, T0 + 300); // moving average 150 ms: 2 × 150 > 200
    expect(want(e, T0 + 1, 1000)).toBe(Math.floor(perMs * 300));
    install(e, granted(0), T0, T0 + 700); // moving average 425 ms: capped at half the lifetime
    expect(want(e, T0 + 1, 1000)).toBe(Math.floor(perMs * 500));
    expect(leaseHorizonMs(0, 1000)).toBe(LEASE_TARGET_MS);
    expect(leaseHorizonMs(150, 1000)).toBe(300);
    expect(leaseHorizonMs(450, 1000)).toBe(500);
  });

  it('never asks a key too small to lease for a lease, however busy (nobody waits for one)', () => {
    const pool = new LeasePool();
    const small = { limit: 79, window_s: 60 }; // 5 % of 79 is 3 < LEASE_MIN_OUTSTANDING
    let e = pool.entry('s', 'v1', small, T0);
    for (let i = 0; i < 400; i++) e = pool.entry('s', 'v1', small, T0 + 1);
    expect(want(e, T0 + 1, 1000)).toBe(1);
    // At 80 the key has 4 of headroom and the same rate asks for a lease.
    const big = { limit: 80, window_s: 60 };
    let f = pool.entry('b', 'v1', big, T0);
    for (let i = 0; i < 400; i++) f = pool.entry('b', 'v1', big, T0 + 1);
    expect(want(f, T0 + 1, 1000)).toBeGreaterThan(1);
  });

  it('asks for no lease while the object’s round trip is over half the lease lifetime', () => {
    const pool = new LeasePool();
    let e = pool.entry('k', 'v1', rule, T0);
    for (let i = 0; i < 400; i++) e = pool.entry('k', 'v1', rule, T0 + 1);
    expect(want(e, T0 + 1, 1000)).toBeGreaterThan(1);
    install(e, granted(0), T0, T0 + 1100); // a 1.1 s round trip (moving average 550 ms)
    expect(want(e, T0 + 1100, 1000)).toBe(1);
    install(e, granted(0), T0 + 1100, T0 + 1110); // fast again: average 280 ms
    expect(want(e, T0 + 1110, 1000)).toBeGreaterThan(1);
    // A pool told to ignore the round trip leases anyway.
    const forced = new LeasePool(undefined, Number.POSITIVE_INFINITY);
    let f = forced.entry('k', 'v1', rule, T0);
    for (let i = 0; i < 400; i++) f = forced.entry('k', 'v1', rule, T0 + 1);
    install(f, granted(0), T0, T0 + 5000);
    expect(want(f, T0 + 5000, 1000)).toBeGreaterThan(1);
  });

  it('spends a lease strictly before the isolate’s expiry estimate, soonest-expiring first', () => {
    const pool = new LeasePool();
    const e = pool.entry('k', 'v1', rule, T0);
    expect(spend(e, T0)).toBeUndefined();
    // Sent at T0, arrived 30 ms later: usable until T0 + 1000 − margin, measured from the send.
    const a = install(e, granted(3, 500, 30), T0, T0 + 30);
    expect(a?.usableUntil).toBe(T0 + 1000 - LEASE_CLOCK_MARGIN_MS);
    expect(a?.returnAt).toBe(T0 + 1000 - LEASE_CLOCK_MARGIN_MS - LEASE_RETURN_MARGIN_MS);
    const b = install(e, granted(2, 490), T0 - 100, T0 + 40);
    expect(e.leases.map((l) => l.id)).toEqual(['L2', 'L3']);
    // remaining = bucket at the last answer + what this isolate holds, less this admission.
    expect(spend(e, T0 + 50)).toMatchObject({ allowed: true, remaining: 490 + 5 - 1 });
    expect(b?.left).toBe(1);
    const until = T0 + 1000 - LEASE_CLOCK_MARGIN_MS;
    expect(held(e, until - 101)).toBe(4);
    expect(held(e, until - 100)).toBe(3); // b expired (sent 100 ms earlier)
    expect(held(e, until - 1)).toBe(3);
    expect(held(e, until)).toBe(0);
    expect(spend(e, until)).toBeUndefined();
  });

  it('counts reset_s down from the object’s answer', () => {
    const pool = new LeasePool();
    const e = pool.entry('k', 'v1', rule, T0);
    install(e, granted(5, 100, 30), T0, T0 + 10);
    expect(spend(e, T0 + 10)?.reset_s).toBe(30);
    expect(spend(e, T0 + 510)?.reset_s).toBe(30);
    expect(spend(e, T0 + 800)?.reset_s).toBe(30);
  });

  it('ignores a lease that arrives after its usable time', () => {
    const e = new LeasePool().entry('k', 'v1', rule, T0);
    expect(install(e, granted(5), T0, T0 + 960)).toBeNull();
    expect(held(e, T0 + 960)).toBe(0);
    expect(e.bucket).toBe(500);
  });

  it('closes a lease for return exactly once, after which nothing spends it', () => {
    const e = new LeasePool().entry('k', 'v1', rule, T0);
    const l = install(e, granted(4), T0, T0)!;
    spend(e, T0);
    expect(closeForReturn(e, l)).toEqual({ id: 'L4', unused: 3 });
    expect(closeForReturn(e, l)).toBeNull();
    expect(spend(e, T0 + 1)).toBeUndefined();
  });

  it('starts afresh when the key record or rule changes, queueing what was unspent for return', () => {
    const pool = new LeasePool();
    const e = pool.entry('k', 'v1', rule, T0);
    install(e, granted(4), T0, T0);
    const changed = pool.entry('k', 'v2', rule, T0 + 10);
    expect(changed).not.toBe(e);
    expect(held(changed, T0 + 10)).toBe(0);
    expect(held(e, T0 + 10)).toBe(0); // the old entry's lease is closed too
    expect(takeReturns(changed)).toEqual([{ id: 'L4', unused: 4 }]);
    expect(takeReturns(changed)).toEqual([]);
    const e2 = pool.entry('k', 'v2', { limit: 999, window_s: 60 }, T0 + 20);
    expect(e2).not.toBe(changed);
  });

  it('forgets a key, handing back what it held, and stays bounded', () => {
    const pool = new LeasePool(2);
    install(pool.entry('a', 'v', rule, T0), granted(3), T0, T0);
    pool.entry('b', 'v', rule, T0);
    expect(pool.forget('a', T0 + 1)).toEqual([{ id: 'L3', unused: 3 }]);
    pool.entry('c', 'v', rule, T0);
    pool.entry('d', 'v', rule, T0);
    expect(pool.size).toBe(2);
  });
});
