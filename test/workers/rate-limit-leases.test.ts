/**
 * Rate-limit leases end to end in workerd: real RATE_LIMITER objects, real D1 keys, real routes.
 * "Isolates" are independent lease pools and deny caches driving the real object concurrently,
 * as separate Worker isolates would; the route's own isolate is the test's. Lease expiry on the
 * isolate side is reached by an injected clock, never by sleeping; only the background returns
 * (which run on real timers in `waitUntil`) are awaited.
 */
import {
  createExecutionContext,
  env,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import type { Env } from '../../src/env';
import * as store from '../../src/keys/store';
import {
  checkRateLimit,
  syncKey,
  type RateLimitOutcome,
  type RateLimiterNamespace,
  type RateLimitKey,
  type RateLimitRule,
} from '../../src/rate-limit';
import { DenyCache } from '../../src/rate-limit/deny-cache';
import { LeasePool } from '../../src/rate-limit/lease-pool';
import { DEFAULT_LEASE_MS } from '../../src/rate-limit/limits';
import { maxOutstanding, RateLimiter } from '../../src/rate-limit/rate-limiter';
import { BASE, createKey } from './helpers';

const CLEAN = { model: 'gpt-4', operation: 'classify', input: 'hello' };

/** One simulated isolate: its own leases, deny cache and background tasks. */
class Isolate {
  readonly cache = new DenyCache();
  readonly background: Promise<unknown>[] = [];
  readonly ctx = { waitUntil: (p: Promise<unknown>) => void this.background.push(p) };
  offset = 0;
  keyChanges = 0;

  constructor(
    readonly ns: RateLimiterNamespace = env.RATE_LIMITER,
    // Leases whatever the round trip, so a loaded test machine still exercises them.
    readonly pool = new LeasePool(undefined, Number.POSITIVE_INFINITY),
  ) {}

  check(key: RateLimitKey, rule: RateLimitRule): Promise<RateLimitOutcome> {
    return checkRateLimit(this.ns, key, rule, 'fail_closed', {
      leases: this.pool,
      denyCache: this.cache,
      ctx: this.ctx,
      now: () => Date.now() + this.offset,
      onKeyChanged: () => void this.keyChanges++,
    });
  }

  /** Waits for the lease top-ups and returns this isolate started (they sleep until return time). */
  async settle(): Promise<void> {
    while (this.background.length > 0) await Promise.all(this.background.splice(0));
  }
}

/** A namespace over the real one that counts calls by method. */
function countingNamespace() {
  const calls = { acquire: 0, release: 0 };
  const ns: RateLimiterNamespace = {
    idFromName: (name) => env.RATE_LIMITER.idFromName(name),
    get: (id) => ({
      acquire: (req) => {
        calls.acquire++;
        return env.RATE_LIMITER.get(id).acquire(req);
      },
      release: (rule, returns) => {
        calls.release++;
        return env.RATE_LIMITER.get(id).release(rule, returns);
      },
    }),
  };
  return { ns, calls };
}

function inObject<R>(keyId: string, fn: (obj: RateLimiter, state: DurableObjectState) => R) {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(keyId));
  return runInDurableObject(stub, (instance, state) =>
    fn(instance as unknown as RateLimiter, state),
  );
}

/** Runs `jobs` with at most `limit` pending at a time. */
async function inFlight<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

describe('leases never over-admit', { timeout: 90_000 }, () => {
  /**
   * 20 isolates × 8 requests in flight, 2 × limit demand, one object; returns the outcomes and
   * the accounting after every isolate has given back what it held.
   */
  async function stampede(pool: () => LeasePool) {
    const rule = { limit: 2000, window_s: 86_400 };
    const key: RateLimitKey = { id: crypto.randomUUID(), version: null };
    const isolates = Array.from({ length: 20 }, () => new Isolate(env.RATE_LIMITER, pool()));
    const started = Date.now();
    const outcomes = (
      await Promise.all(
        isolates.map((iso) =>
          inFlight(
            Array.from(
              { length: (2 * rule.limit) / isolates.length },
              () => () => iso.check(key, rule),
            ),
            8,
          ),
        ),
      )
    ).flat();
    const elapsedS = (Date.now() - started) / 1000;
    expect(outcomes.every((o) => o.source !== 'failure')).toBe(true);
    const admitted = outcomes.filter((o) => o.decision.allowed).length;
    const fromLeases = outcomes.filter((o) => o.source === 'lease').length;
    // Every isolate gives back what it still holds; then the object accounts for every admission.
    for (const iso of isolates) await iso.settle();
    const probe = await inObject(key.id, (obj) => obj.check(rule, Date.now()));
    const free = probe.allowed ? probe.remaining + 1 : 0;
    const lost = rule.limit - admitted - free;
    console.log(
      `leases: ${admitted}/${rule.limit} admitted of ${outcomes.length} (${fromLeases} from leases) ` +
        `in ${elapsedS.toFixed(1)} s; afterwards ${free} free, ${lost} lost`,
    );
    // GCRA's bound: limit, plus what the (86 400 s) window refills while the test runs.
    const refill = Math.floor(((elapsedS + 5) * rule.limit) / rule.window_s);
    expect(admitted).toBeLessThanOrEqual(rule.limit + refill);
    return { rule, admitted, fromLeases, free, lost, elapsedS, refill };
  }

  it('20 isolates, 8 requests in flight each, 2×limit demand on one object: at most limit', async () => {
    // Leases forced on whatever the round trip (the worst case for over-admission).
    const r = await stampede(() => new LeasePool(undefined, Number.POSITIVE_INFINITY));
    expect(r.fromLeases).toBeGreaterThan(0);
  });

  it('the same with the default pool: under-admission bounded by the lease cap', async () => {
    const r = await stampede(() => new LeasePool());
    const cap = maxOutstanding(r.rule);
    expect(cap).toBe(100);
    // Requests were refused while at most the cap was held back from them; what is free once
    // every lease is back is at most that.
    expect(r.free).toBeLessThanOrEqual(cap + r.refill);
    // Leases lost unspent (an answer or a return slower than the lease): at most the cap per
    // lease lifetime with grace (2 s). With fast round trips none are lost.
    expect(r.lost).toBeLessThanOrEqual(cap * Math.ceil(r.elapsedS / 2 + 1));
  });

  it('a burst of 2×limit through /v1/check in one isolate admits at most limit (leased key)', async () => {
    const limit = 500;
    const { key } = await createKey({
      name: 'lease burst',
      policy: { rate_limit: { limit, window_s: 86_400 } },
    });
    const statuses = await inFlight(
      Array.from({ length: 2 * limit }, () => async () => {
        const ctx = createExecutionContext();
        const res = await worker.fetch(
          new Request(BASE + '/v1/check', {
            method: 'POST',
            headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
            body: JSON.stringify(CLEAN),
          }),
          env,
          ctx,
        );
        await res.arrayBuffer();
        await waitOnExecutionContext(ctx);
        return res.status;
      }),
      64,
    );
    const ok = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(ok).toBeLessThanOrEqual(limit);
    expect(ok).toBeGreaterThanOrEqual(limit - maxOutstanding({ limit, window_s: 86_400 }));
    console.log(`leases: /v1/check burst admitted ${ok} of ${2 * limit} (limit ${limit})`);
  });
});

describe('RateLimit headers stay truthful under leases', { timeout: 60_000 }, () => {
  it('counts remaining down by one per admission in one isolate, with ≤ 0.1 object calls each', async () => {
    const limit = 1000;
    const created = await createKey({
      name: 'lease headers',
      policy: { rate_limit: { limit, window_s: 86_400 } },
    });
    const { ns, calls } = countingNamespace();
    const testEnv = { ...env, RATE_LIMITER: ns } as unknown as Env;
    const remaining: number[] = [];
    const limits: number[] = [];
    for (let i = 0; i < 600; i++) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { Authorization: `Bearer ${created.key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(CLEAN),
        }),
        testEnv,
        ctx,
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { rate_limit: { remaining: number; limit: number } };
      const header = /^"requests";r=(\d+);t=(\d+)$/.exec(res.headers.get('RateLimit') ?? '');
      expect(Number(header?.[1])).toBe(body.rate_limit.remaining);
      expect(res.headers.get('X-RateLimit-Remaining')).toBe(String(body.rate_limit.remaining));
      remaining.push(body.rate_limit.remaining);
      limits.push(body.rate_limit.limit);
      // Do not wait for the lease return timers (they sleep until shortly before expiry).
      void waitOnExecutionContext(ctx);
    }
    // Exactly GCRA's count: the i-th admission leaves limit − i, whether the object or a lease
    // answered (this isolate is the key's only one; the 86 400 s window refills nothing here).
    expect(remaining).toEqual(Array.from({ length: 600 }, (_, i) => limit - 1 - i));
    expect(limits.every((l) => l === limit)).toBe(true);
    const perAdmission = (calls.acquire + calls.release) / 600;
    console.log(
      `leases: ${calls.acquire} acquire + ${calls.release} release calls for 600 admissions`,
    );
    expect(perAdmission).toBeLessThanOrEqual(0.1);
  });
});

describe('revocation and policy changes reach leases within one lease lifetime', () => {
  const rule = { limit: 10_000, window_s: 60 };

  /** Sends requests (8 at a time) until the isolate spends from a lease, as a busy key does. */
  async function warmed(iso: Isolate, key: RateLimitKey) {
    for (let round = 0; round < 50; round++) {
      const out = await Promise.all(Array.from({ length: 8 }, () => iso.check(key, rule)));
      expect(out.every((o) => o.decision.allowed)).toBe(true);
      if (out.some((o) => o.source === 'lease')) break;
    }
    // It holds admissions now.
    expect((await iso.check(key, rule)).source).toBe('lease');
  }

  it('a revoked key is refused by the object once the isolate’s lease is over', async () => {
    const created = await createKey({ name: 'revoke-lease', policy: { rate_limit: rule } });
    const record = (await store.getKey(env.DB, created.id))!;
    const key = { id: created.id, version: record.updated_at };
    const iso = new Isolate();
    await warmed(iso, key);

    // Another isolate revokes: D1 and the key's object (what DELETE /admin/keys/{id} does).
    const revoked = (await store.revokeKey(env.DB, created.id, new Date()))!;
    await syncKey(env.RATE_LIMITER, created.id, {
      version: revoked.updated_at,
      rule,
      revoked: true,
    });
    // Within the lease this isolate may still spend what it was granted…
    expect((await iso.check(key, rule)).source).toBe('lease');
    // …and once it is over (≤ RATE_LIMIT_LEASE_MS), the object refuses.
    iso.offset = DEFAULT_LEASE_MS;
    const after = await iso.check(key, rule);
    expect(after.source).toBe('revoked');
    expect(after.decision.allowed).toBe(false);
    expect(iso.keyChanges).toBeGreaterThanOrEqual(1);
    // Every later call is refused too, whatever version the isolate claims.
    expect((await iso.check({ ...key, version: revoked.updated_at }, rule)).source).toBe('revoked');
  });

  it('answers 401 on /v1/check when the object knows of a revocation the key cache does not', async () => {
    const created = await createKey({ name: 'revoke-route' });
    const send = async () => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { Authorization: `Bearer ${created.key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(CLEAN),
        }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await send()).status).toBe(200); // the record is now in this isolate's key cache
    const revoked = (await store.revokeKey(env.DB, created.id, new Date()))!;
    await syncKey(env.RATE_LIMITER, created.id, {
      version: revoked.updated_at,
      rule: { limit: 60, window_s: 60 },
      revoked: true,
    });
    const res = await send();
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ detail: 'The API key has been revoked.' });
    // The key cache entry was evicted: the next request reads D1 and is refused at auth.
    expect((await send()).status).toBe(401);
  });

  it('a changed policy applies at the isolate’s next call to the object, and evicts its record', async () => {
    const created = await createKey({ name: 'patch-lease', policy: { rate_limit: rule } });
    const record = (await store.getKey(env.DB, created.id))!;
    const key = { id: created.id, version: record.updated_at };
    const iso = new Isolate();
    await warmed(iso, key);

    // Another isolate lowers the limit to 1 per minute.
    const lowered = { limit: 1, window_s: 60 };
    const patched = await store.patchKey(
      env.DB,
      created.id,
      () => ({ policy: { rate_limit: lowered } }),
      new Date(Date.now() + 1),
    );
    if (!patched.ok) throw new Error(`patchKey: ${patched.reason}`);
    const updated = patched.record;
    await syncKey(env.RATE_LIMITER, created.id, {
      version: updated.updated_at,
      rule: lowered,
      revoked: false,
    });
    iso.offset = DEFAULT_LEASE_MS;
    // This isolate still has the old record (old version, old rule): the object decides under the
    // new rule (65 admissions already counted → refused) and says the record is stale.
    const out = await iso.check(key, rule);
    expect(out).toMatchObject({ source: 'object', stale: true, rule: lowered });
    expect(out.decision.allowed).toBe(false);
    expect(iso.keyChanges).toBe(1);
    // With the new record the isolate is current again.
    const fresh = await iso.check({ id: created.id, version: updated.updated_at }, lowered);
    expect(fresh).toMatchObject({ source: 'object', stale: false });
  });

  it('PATCH and DELETE tell the object: other isolates’ stale records are caught', async () => {
    const created = await createKey({ name: 'admin-sync', policy: { rate_limit: rule } });
    const before = (await store.getKey(env.DB, created.id))!;
    const patched = await SELFadmin(`/admin/keys/${created.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ policy: { rate_limit: { limit: 500, window_s: 60 } } }),
    });
    expect(patched.status).toBe(200);
    const iso = new Isolate();
    const stale = await iso.check({ id: created.id, version: before.updated_at }, rule);
    expect(stale).toMatchObject({ stale: true, rule: { limit: 500, window_s: 60 } });
    expect((await SELFadmin(`/admin/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await iso.check({ id: created.id, version: null }, rule)).source).toBe('revoked');
  });
});

describe('the object remembers its leases', () => {
  it('worst case: leases abandoned unspent hold back at most the cap (5 % of the limit), then are lost', async () => {
    const keyId = crypto.randomUUID();
    const rule = { limit: 1000, window_s: 3600 };
    const got = await inObject(keyId, (obj) => {
      const t = Date.now();
      // Twenty isolates each take a lease and vanish without spending or returning it.
      let leased = 0;
      for (let i = 0; i < 20; i++) {
        const r = obj.acquire({ rule, take: 0, lease: 10, lease_ms: 1000, version: null }, t);
        leased += r.lease?.tokens ?? 0;
      }
      const burst = (at: number) => {
        let n = 0;
        while (obj.check(rule, at).allowed) n++;
        return n;
      };
      return { leased, during: burst(t + 1), after: burst(t + 1000) };
    });
    const cap = maxOutstanding(rule);
    // The cap holds however many isolates ask; other isolates get everything else.
    expect(got.leased).toBe(cap);
    expect(got.during).toBe(rule.limit - cap);
    // Unreturned, the leased admissions are gone for this window (they refill at the normal rate).
    expect(got.after).toBe(0);
  });

  it('keeps outstanding leases across a fresh instance, so a restart cannot refill into them', async () => {
    const keyId = crypto.randomUUID();
    const rule = { limit: 100, window_s: 3600 };
    const got = await inObject(keyId, (obj, state) => {
      const now = Date.now();
      const granted = obj.acquire({ rule, take: 0, lease: 5, lease_ms: 5_000, version: null }, now);
      const reborn = new RateLimiter(state, env);
      const rows = state.storage.sql.exec('SELECT tokens FROM leases').toArray();
      // 100 − 5 leased: a reborn object without the lease rows would admit 100.
      let admitted = 0;
      for (let i = 0; i < 200; i++) if (reborn.check(rule, now + 1000).allowed) admitted++;
      return { granted: granted.lease?.tokens, rows, admitted };
    });
    expect(got).toEqual({ granted: 5, rows: [{ tokens: 5 }], admitted: 95 });
  });
});

/** Admin call through the Worker in this isolate (its PATCH/DELETE also sync the object). */
async function SELFadmin(path: string, init: RequestInit): Promise<Response> {
  return await worker.fetch(
    new Request(BASE + path, {
      ...init,
      headers: { Authorization: 'Bearer test-admin-token', 'Content-Type': 'application/json' },
    }),
    env,
    createExecutionContext(),
  );
}
