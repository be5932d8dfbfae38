/**
 * The rate limiter end to end in workerd: real RATE_LIMITER objects, real D1 keys, real routes.
 * Time is controlled through the object's `check(rule, now)` via runInDurableObject, never slept.
 */
import {
  createExecutionContext,
  env,
  SELF,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import type { Env } from '../../src/env';
import type { AuditEvent, AuditMessageBody } from '../../src/audit/event';
import { metrics } from '../../src/metrics/recorder';
import {
  checkRateLimit,
  RateLimiterTimeoutError,
  type RateLimitDecision,
  type RateLimiterNamespace,
  type RateLimitKey,
  type RateLimitRule,
} from '../../src/rate-limit';
import type { AcquireResult } from '../../src/rate-limit/rate-limiter';
import { DenyCache } from '../../src/rate-limit/deny-cache';
import { RateLimiter } from '../../src/rate-limit/rate-limiter';
import { admin, BASE, check, createKey } from './helpers';
import { rateLimitFields } from './rate-limit-fields';

const CLEAN = { model: 'gpt-4', operation: 'classify', input: 'hello' };

async function keyWith(rule: RateLimitRule) {
  return createKey({ name: 'rate-limit test', policy: { rate_limit: rule } });
}

function objectOf(keyId: string): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(keyId));
}

/** runInDurableObject typed for the RATE_LIMITER class. */
function inObject<R>(
  stub: DurableObjectStub<RateLimiter>,
  fn: (obj: RateLimiter, state: DurableObjectState) => R,
): Promise<R> {
  return runInDurableObject(stub, (instance, state) =>
    fn(instance as unknown as RateLimiter, state),
  );
}

interface Advertised {
  q: number;
  w: number;
  r: number;
  t: number;
  legacy: { limit: number; remaining: number; reset: number };
}

/**
 * Parses and strictly checks the rate-limit headers of one response of a key without a token
 * quota: one policy, `"requests"`, and no binding mark (rate-limit-fields.ts).
 */
function advertised(res: Response): Advertised {
  const f = rateLimitFields(res);
  expect([...f.policies.keys()]).toEqual(['requests']);
  expect([...f.limits.keys()]).toEqual(['requests']);
  expect(f.binding).toBeUndefined();
  const policy = f.policies.get('requests')!;
  const state = f.limits.get('requests')!;
  // The request quota is in the draft's default unit: no `qu`.
  expect(policy.qu).toBeUndefined();
  return { q: policy.q, w: policy.w, r: state.r, t: state.t, legacy: f.legacy };
}

/** Checks that headers and body tell the same story, and returns it. */
async function rateLimitState(res: Response) {
  const a = advertised(res);
  const body = (await res.json()) as {
    rate_limit: { limit: number; remaining: number; reset_s: number };
    type?: string;
  };
  expect(a.legacy).toEqual({ limit: a.q, remaining: a.r, reset: a.t });
  expect(body.rate_limit).toEqual({ limit: a.q, remaining: a.r, reset_s: a.t });
  return { ...a, body };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('POST /v1/check rate limiting', () => {
  it('admits exactly limit of a concurrent burst of 2×limit', async () => {
    const limit = 10;
    const { key } = await keyWith({ limit, window_s: 3600 });
    const responses = await Promise.all(Array.from({ length: 2 * limit }, () => check(key, CLEAN)));
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(limit);
    expect(limited).toHaveLength(limit);
    // Serialized: each admission saw a distinct remaining count.
    const remaining = await Promise.all(ok.map(async (r) => (await rateLimitState(r)).r));
    expect(remaining.sort((x, y) => x - y)).toEqual(Array.from({ length: limit }, (_, i) => i));
    for (const r of limited) {
      const s = await rateLimitState(r);
      expect(r.headers.get('Content-Type')).toBe('application/problem+json');
      expect(s.body.type).toMatch(/quota-exceeded$/);
      expect(r.headers.get('Retry-After')).toMatch(/^\d+$/);
      const retryAfter = Number(r.headers.get('Retry-After'));
      // One interval is 360 s; Retry-After and t name the same instant.
      expect(retryAfter).toBeGreaterThanOrEqual(359);
      expect(retryAfter).toBeLessThanOrEqual(360);
      expect(s).toMatchObject({ q: limit, w: 3600, r: 0, t: retryAfter });
    }
  });

  it('admits again once Retry-After seconds have passed on the object’s clock', async () => {
    const rule = { limit: 2, window_s: 60 };
    const { id, key } = await keyWith(rule);
    expect((await check(key, CLEAN)).status).toBe(200);
    expect((await check(key, CLEAN)).status).toBe(200);
    const denied = await check(key, CLEAN);
    expect(denied.status).toBe(429);
    const retryAfter = Number(denied.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    const [now, later] = await inObject(objectOf(id), (obj: RateLimiter) => {
      const at = Date.now(); // no earlier than the denial
      return [obj.check(rule, at), obj.check(rule, at + retryAfter * 1000)];
    });
    expect(now?.allowed).toBe(false);
    expect(later).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('denies until exactly the next-allowed instant with a synthetic clock', async () => {
    const rule = { limit: 4, window_s: 10 }; // one request per 2.5 s
    const t0 = Date.UTC(2030, 0, 1);
    const decisions = await inObject(
      env.RATE_LIMITER.get(env.RATE_LIMITER.newUniqueId()),
      (obj: RateLimiter) => {
        const out: RateLimitDecision[] = [];
        for (let i = 0; i < 8; i++) out.push(obj.check(rule, t0));
        out.push(
          obj.check(rule, t0 + 2499),
          obj.check(rule, t0 + 2500),
          obj.check(rule, t0 + 2500),
        );
        return out;
      },
    );
    expect(decisions.slice(0, 8).map((d) => d.allowed)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(decisions[4]).toEqual({
      allowed: false,
      limit: 4,
      remaining: 0,
      reset_s: 3,
      retry_after_s: 3,
    });
    expect(decisions.slice(8).map((d) => d.allowed)).toEqual([false, true, false]);
  });

  it('carries the draft-11 and legacy headers with the body’s numbers on 200 and 429', async () => {
    // Exact t values: the clock (Date only, timers stay real) stands still, so a slow request
    // on a loaded machine cannot shift them. The object and the route read this clock too.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2030, 0, 1));
    const { key } = await keyWith({ limit: 3, window_s: 90 });
    const first = await check(key, CLEAN);
    expect(first.status).toBe(200);
    expect(first.headers.get('RateLimit-Policy')).toBe('"requests";q=3;w=90');
    expect(first.headers.get('RateLimit')).toBe('"requests";r=2;t=30');
    expect(await rateLimitState(first)).toMatchObject({ q: 3, w: 90, r: 2, t: 30 });
    // A blocked decision is still a 200 and still carries the headers.
    const blocked = await check(key, { ...CLEAN, input: 'fnr 01010012356' });
    expect(blocked.status).toBe(200);
    expect(await rateLimitState(blocked)).toMatchObject({ r: 1, t: 60 });
    expect(await rateLimitState(await check(key, CLEAN))).toMatchObject({ r: 0, t: 90 });
    const limited = await check(key, CLEAN);
    expect(limited.status).toBe(429);
    const s = await rateLimitState(limited);
    expect(s).toMatchObject({ q: 3, w: 90, r: 0 });
    expect(Number(limited.headers.get('Retry-After'))).toBe(s.t);
    expect(s.body).toMatchObject({ status: 429, retry_after_s: s.t });
  });

  it('keeps separate keys apart', async () => {
    const a = await keyWith({ limit: 1, window_s: 3600 });
    const b = await keyWith({ limit: 1, window_s: 3600 });
    expect((await check(a.key, CLEAN)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await check(a.key, CLEAN)).status).toBe(429);
    const other = await check(b.key, CLEAN);
    expect(other.status).toBe(200);
    expect(await rateLimitState(other)).toMatchObject({ q: 1, r: 0 });
    expect((await check(b.key, CLEAN)).status).toBe(429);
  });

  it('applies a changed policy to the next request, in both directions', async () => {
    const { id, key } = await keyWith({ limit: 2, window_s: 3600 });
    expect((await check(key, CLEAN)).status).toBe(200);
    expect((await check(key, CLEAN)).status).toBe(200);
    expect((await check(key, CLEAN)).status).toBe(429); // now also in the deny cache

    const patch = (rule: RateLimitRule) =>
      admin(`/admin/keys/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ policy: { rate_limit: rule } }),
      });
    expect((await patch({ limit: 5, window_s: 3600 })).status).toBe(200);
    // The two requests already made still count: 3 of 5 left, this one takes one.
    const raised = await check(key, CLEAN);
    expect(raised.status).toBe(200);
    expect(await rateLimitState(raised)).toMatchObject({ q: 5, w: 3600, r: 2 });

    expect((await patch({ limit: 1, window_s: 3600 })).status).toBe(200);
    const lowered = await check(key, CLEAN);
    expect(lowered.status).toBe(429);
    expect(await rateLimitState(lowered)).toMatchObject({ q: 1, w: 3600, r: 0 });
  });

  it('keeps a key’s state across a fresh object instance (eviction)', async () => {
    const rule = { limit: 2, window_s: 3600 };
    const { id, key } = await keyWith(rule);
    await check(key, CLEAN);
    await check(key, CLEAN);
    const [fresh, rows] = await inObject(objectOf(id), (_obj: RateLimiter, state) => {
      // A new instance has no memory of its predecessor: only storage can deny here.
      const reborn = new RateLimiter(state, env);
      return [
        reborn.check(rule),
        state.storage.sql.exec('SELECT limit_n, window_s FROM gcra_state').toArray(),
      ];
    });
    expect(fresh).toMatchObject({ allowed: false, remaining: 0 });
    expect(rows).toEqual([{ limit_n: 2, window_s: 3600 }]);
  });
});

describe('denied requests are still counted and audited', () => {
  it('records rate_limit_hits_total, the stage latency and a rate_limited audit event', async () => {
    const { id, key } = await keyWith({ limit: 1, window_s: 3600 });
    const sent: AuditEvent[] = [];
    const testEnv: Env = {
      ...env,
      AUDIT_QUEUE: {
        send: (body, opts) => env.AUDIT_QUEUE.send(body, opts),
        // The audit producer packs events into messages (src/audit/producer.ts).
        sendBatch: (msgs, opts) => {
          const list = [...msgs];
          for (const m of list) if ('pack' in m.body) sent.push(...m.body.events);
          return env.AUDIT_QUEUE.sendBatch(list, opts);
        },
        metrics: () => env.AUDIT_QUEUE.metrics(),
      },
    };
    const inc = vi.spyOn(metrics, 'inc');
    const observe = vi.spyOn(metrics, 'observe');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(CLEAN),
        }),
        testEnv,
        ctx,
      );
      statuses.push(res.status);
      await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
    }
    expect(statuses).toEqual([200, 429, 429, 429]);
    const hits = inc.mock.calls.filter(([name]) => name === 'rate_limit_hits_total');
    expect(hits).toEqual(
      Array.from({ length: 3 }, () => ['rate_limit_hits_total', { api_key_id: id }]),
    );
    const stage = observe.mock.calls.filter(
      ([name, labels]) => name === 'governance_check_latency_ms' && labels.stage === 'rate_limit',
    );
    expect(stage).toHaveLength(4);
    expect(sent.map((e) => [e.outcome, e.allowed, e.api_key_id])).toEqual([
      ['allowed', true, id],
      ['rate_limited', false, id],
      ['rate_limited', false, id],
      ['rate_limited', false, id],
    ]);
  });
});

/**
 * A namespace over the real one whose objects' `acquire` does what `behaviour` says (`real` calls
 * the key's real object). Counts calls, so tests can tell whether an object was asked at all.
 */
function testNamespace(
  behaviour: (real: () => Promise<AcquireResult>, call: number) => Promise<AcquireResult>,
) {
  let calls = 0;
  const ns: RateLimiterNamespace & { calls(): number } = {
    idFromName: (name) => env.RATE_LIMITER.idFromName(name),
    get: (id) => ({
      acquire: (req) => {
        calls++;
        return behaviour(() => env.RATE_LIMITER.get(id).acquire(req), calls);
      },
      release: (rule, returns) => env.RATE_LIMITER.get(id).release(rule, returns),
    }),
    calls: () => calls,
  };
  return ns;
}

/** A key as checkRateLimit takes it: a fresh id, no record version. */
const freshKey = (): RateLimitKey => ({ id: crypto.randomUUID(), version: null });

/** An error shaped like the ones workerd raises for Durable Objects. */
function doError(message: string, flags: { retryable?: boolean; overloaded?: boolean }): Error {
  return Object.assign(new Error(message), flags);
}

describe('the deny cache', () => {
  it('answers a hammering key without calling its object, until the rule changes', async () => {
    const key = freshKey();
    const rule = { limit: 1, window_s: 3600 };
    const ns = testNamespace((real) => real());
    const cache = new DenyCache();
    const ask = (r: RateLimitRule) => checkRateLimit(ns, key, r, 'fail_open', { denyCache: cache });
    expect(await ask(rule)).toMatchObject({ source: 'object', decision: { allowed: true } });
    expect(await ask(rule)).toMatchObject({ source: 'object', decision: { allowed: false } });
    for (let i = 0; i < 50; i++) {
      const out = await ask(rule);
      expect(out.source).toBe('cache');
      expect(out.decision).toMatchObject({ allowed: false, remaining: 0 });
      expect(out.decision.retry_after_s).toBeGreaterThanOrEqual(3599);
    }
    expect(ns.calls()).toBe(2);
    // A raised limit is decided by the object at once, never by a stale denial.
    expect(await ask({ limit: 3, window_s: 3600 })).toMatchObject({
      source: 'object',
      decision: { allowed: true, remaining: 1 },
    });
    expect(ns.calls()).toBe(3);
  });
});

describe('failure policy', () => {
  const rule = { limit: 5, window_s: 60 };

  it('turns a failing object into the configured decision (real RPC error from the object)', async () => {
    // The real object rejects an invalid rule; the error crosses RPC like any object failure.
    // (workerd logs it as "uncaught exception … RangeError": that line is expected.)
    const ns = testNamespace(() =>
      env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName('x')).acquire({
        rule: { limit: 0, window_s: 60 },
        take: 1,
        lease: 0,
        lease_ms: 0,
        version: null,
      }),
    );
    const k1 = freshKey();
    const open = await checkRateLimit(ns, k1, rule, 'fail_open', { denyCache: new DenyCache() });
    expect(open).toMatchObject({
      source: 'failure',
      mode: 'fail_open',
      decision: { allowed: true, limit: 5, remaining: 0, reset_s: 1, retry_after_s: 0 },
    });
    expect(String((open as { error: unknown }).error)).toMatch(/RangeError/);
    const closed = await checkRateLimit(ns, k1, rule, 'fail_closed', {
      denyCache: new DenyCache(),
    });
    expect(closed).toMatchObject({
      source: 'failure',
      mode: 'fail_closed',
      decision: { allowed: false, remaining: 0, reset_s: 1, retry_after_s: 1 },
    });
  });

  it('retries a retryable error once, and never an overloaded object', async () => {
    const key = freshKey();
    const flaky = testNamespace((real, call) =>
      call === 1 ? Promise.reject(doError('Durable Object reset', { retryable: true })) : real(),
    );
    expect(
      await checkRateLimit(flaky, key, rule, 'fail_closed', { denyCache: new DenyCache() }),
    ).toMatchObject({
      source: 'object',
      decision: { allowed: true, remaining: 4 },
    });
    expect(flaky.calls()).toBe(2);

    const overloaded = testNamespace(() =>
      Promise.reject(
        doError('Durable Object is overloaded', { retryable: true, overloaded: true }),
      ),
    );
    expect(
      await checkRateLimit(overloaded, key, rule, 'fail_closed', { denyCache: new DenyCache() }),
    ).toMatchObject({
      source: 'failure',
      decision: { allowed: false },
    });
    expect(overloaded.calls()).toBe(1);
  });

  it('gives up on an object that does not answer', async () => {
    const hanging = testNamespace(() => new Promise<never>(() => {}));
    const out = await checkRateLimit(hanging, freshKey(), rule, 'fail_open', {
      timeoutMs: 20,
      denyCache: new DenyCache(),
    });
    expect(out.source).toBe('failure');
    expect((out as { error: unknown }).error).toBeInstanceOf(RateLimiterTimeoutError);
  });

  it.each([
    { mode: 'fail_open', status: 200 },
    { mode: 'fail_closed', status: 503 },
  ])(
    'answers $status on /v1/check when the object fails and the mode is $mode',
    async ({ mode, status }) => {
      const { id, key } = await keyWith(rule);
      const failing = testNamespace(() => Promise.reject(doError('boom', {})));
      const sent: AuditEvent[] = [];
      const testEnv = {
        ...env,
        RATE_LIMITER: failing,
        RATE_LIMIT_FAILURE_MODE: mode,
        AUDIT_QUEUE: {
          sendBatch: async (msgs: Iterable<MessageSendRequest<AuditMessageBody>>) => {
            for (const m of msgs) if ('pack' in m.body) sent.push(...m.body.events);
          },
        },
      } as unknown as Env; // the test namespace implements only what the gateway calls
      const inc = vi.spyOn(metrics, 'inc');
      const logged = vi.spyOn(console, 'error');
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(CLEAN),
        }),
        testEnv,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(status);
      const s = await rateLimitState(res);
      expect(s).toMatchObject({ q: 5, w: 60, r: 0, t: 1 });
      expect(failing.calls()).toBe(1);
      expect(inc.mock.calls).toContainEqual(['rate_limit_failures_total', { mode }]);
      // Reported through captureException, which logs a structured line (and sends to Sentry).
      const reports = logged.mock.calls
        .map(([line]) => String(line))
        .filter((l) => l.includes('"rate_limiter"'));
      expect(reports).toHaveLength(1);
      expect(JSON.parse(reports[0]!)).toMatchObject({
        component: 'rate_limiter',
        mode,
        api_key_id: id,
      });
      // A limiter outage is not a quota hit.
      expect(inc.mock.calls.some(([name]) => name === 'rate_limit_hits_total')).toBe(false);
      expect(sent.map((e) => [e.outcome, e.api_key_id])).toEqual([
        [status === 200 ? 'allowed' : 'rate_limited', id],
      ]);
      if (status === 503) {
        expect(res.headers.get('Retry-After')).toBe('1');
        expect(s.body.type).toMatch(/service-unavailable$/);
      }
    },
  );
});

describe('OpenAPI', () => {
  it('documents the rate-limit headers on 200 and the 429 problem with Retry-After', async () => {
    const doc = (await (await SELF.fetch(BASE + '/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { headers?: object; content?: object }> }>
      >;
    };
    const responses = doc.paths['/v1/check']!.post!.responses;
    expect(Object.keys(responses['200']!.headers ?? {})).toEqual(
      expect.arrayContaining([
        'RateLimit-Policy',
        'RateLimit',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
      ]),
    );
    expect(Object.keys(responses['429']!.headers ?? {})).toContain('Retry-After');
    expect(responses['429']!.content).toHaveProperty(
      ['application/problem+json', 'schema', '$ref'],
      '#/components/schemas/QuotaExceededProblem',
    );
  });
});
