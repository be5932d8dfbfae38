/**
 * `RateLimit-Policy` / `RateLimit` with both quotas (docs/rate-limit.md#headers-and-body), parsed
 * by a strict Structured Fields parser (rate-limit-fields.ts): which members appear, their
 * figures against the body and the legacy headers, and which one is marked binding — on 200s,
 * on both kinds of 429, on a 413, on an output check, and under leases. Prompts go to an
 * `estimate` model; the prompt's count is learned from an admitted answer, not hard-coded.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { maxOutstanding } from '../../src/rate-limit/limits';
import { BASE, check, createKey } from './helpers';
import { rateLimitFields } from './rate-limit-fields';

const MODEL = 'llama-3-70b';
const PROMPT = 'Summarise the quarterly report in three short bullet points, please.';
const DAY = 86_400; // refill is negligible within a test

async function keyWith(
  rate_limit: { limit: number; window_s: number },
  token_limit?: { tokens: number; window_s: number },
) {
  return createKey({
    name: 'headers',
    policy: { models: ['*'], rate_limit, ...(token_limit ? { token_limit } : {}) },
  });
}

const ask = (key: string, input: string = PROMPT) =>
  check(key, { model: MODEL, operation: 'chat', input });

/** The prompt's counted input tokens, from a key with a large quota. */
async function promptTokens(): Promise<number> {
  const { key } = await keyWith({ limit: 10, window_s: 60 }, { tokens: 1_000_000, window_s: DAY });
  const res = await ask(key);
  expect(res.status).toBe(200);
  const n = (await res.json<{ usage: { input_tokens: number } }>()).usage.input_tokens;
  expect(n).toBeGreaterThan(1);
  return n;
}

interface Body {
  rate_limit: { limit: number; remaining: number; reset_s: number };
  token_limit?: { limit: number; remaining: number; reset_s: number };
  retry_after_s?: number;
  type?: string;
}

describe('rate-limit headers with a token quota', () => {
  it('lists both policies and marks the one that admits fewer further requests', async () => {
    const n = await promptTokens();
    // Tokens for 3 requests, requests for 1000: tokens bind.
    const { key } = await keyWith({ limit: 1000, window_s: 60 }, { tokens: 3 * n, window_s: DAY });
    const res = await ask(key);
    expect(res.status).toBe(200);
    const f = rateLimitFields(res);
    expect(res.headers.get('RateLimit-Policy')).toBe(
      `"requests";q=1000;w=60, "tokens";q=${3 * n};qu="tokens";w=${DAY}`,
    );
    expect(f.limits.get('tokens')).toMatchObject({ r: 2 * n, binding: true });
    expect(f.limits.get('requests')).toMatchObject({ r: 999, t: 1, binding: false });
    // n of 3n per day: a third of a day until full, less the seconds the request took.
    expect(f.limits.get('tokens')!.t).toBeLessThanOrEqual(DAY / 3);
    expect(f.limits.get('tokens')!.t).toBeGreaterThan(DAY / 3 - 60);
    // The legacy headers and the body keep describing the request quota.
    const body = await res.json<Body>();
    expect(f.legacy).toEqual({ limit: 1000, remaining: 999, reset: 1 });
    expect(body.rate_limit).toEqual({ limit: 1000, remaining: 999, reset_s: 1 });

    // Requests for 2, tokens plenty: requests bind.
    const other = await keyWith({ limit: 2, window_s: 60 }, { tokens: 100 * n, window_s: DAY });
    const g = rateLimitFields(await ask(other.key));
    expect(g.binding).toBe('requests');
    expect(g.limits.get('requests')).toMatchObject({ r: 1, t: 30 });
    expect(g.limits.get('tokens')!.r).toBe(99 * n);
  });

  it('on a token 429 marks "tokens", with t = Retry-After and the body’s token figures', async () => {
    const n = await promptTokens();
    // A day's window: nothing of the first request's admission refills before the second.
    const { key } = await keyWith({ limit: 1000, window_s: DAY }, { tokens: n, window_s: DAY });
    expect((await ask(key)).status).toBe(200);
    const refused = await ask(key);
    expect(refused.status).toBe(429);
    const f = rateLimitFields(refused);
    const body = await refused.json<Body>();
    expect(body.type).toMatch(/:token-quota-exceeded$/);
    expect(f.binding).toBe('tokens');
    expect(f.limits.get('tokens')).toEqual({
      r: body.token_limit!.remaining,
      t: body.retry_after_s,
      binding: true,
    });
    expect(refused.headers.get('Retry-After')).toBe(String(body.retry_after_s));
    // The request quota admitted this request (then the tokens refused it): 998 left.
    expect(f.limits.get('requests')).toMatchObject({ r: 998, binding: false });
    expect(f.legacy.remaining).toBe(998);
    expect(body.rate_limit.remaining).toBe(998);
  });

  it('on a request 429 marks "requests" and lists no token figures (nothing was charged)', async () => {
    const { key } = await keyWith({ limit: 1, window_s: 60 }, { tokens: 1_000_000, window_s: DAY });
    expect((await ask(key)).status).toBe(200);
    const refused = await ask(key);
    expect(refused.status).toBe(429);
    const f = rateLimitFields(refused);
    expect([...f.policies.keys()]).toEqual(['requests', 'tokens']);
    expect([...f.limits.keys()]).toEqual(['requests']);
    expect(refused.headers.get('RateLimit')).toBe(
      `"requests";r=0;t=${refused.headers.get('Retry-After')};vakt-binding`,
    );
    expect((await refused.json<Body>()).type).toMatch(/:quota-exceeded$/);
  });

  it('on a 413 and on an output check lists the token policy without figures or a mark', async () => {
    const n = await promptTokens();
    const { key } = await keyWith({ limit: 1000, window_s: 60 }, { tokens: n - 1, window_s: DAY });
    const tooLarge = await ask(key);
    expect(tooLarge.status).toBe(413);
    const f = rateLimitFields(tooLarge);
    expect([...f.policies.keys()]).toEqual(['requests', 'tokens']);
    expect([...f.limits.keys()]).toEqual(['requests']);
    expect(f.binding).toBeUndefined();

    const output = await check(key, { model: MODEL, operation: 'chat', output: PROMPT });
    expect(output.status).toBe(200);
    const g = rateLimitFields(output);
    expect([...g.policies.keys()]).toEqual(['requests', 'tokens']);
    expect([...g.limits.keys()]).toEqual(['requests']);
    expect(g.binding).toBeUndefined();
  });
});

describe('rate-limit headers under leases', { timeout: 60_000 }, () => {
  it('never overstates requests, keeps tokens exact, and marks binding by the rule', async () => {
    const n = await promptTokens();
    const limit = 1000;
    // Tokens for exactly as many requests as the request quota: a tie, which "requests" takes.
    const { key } = await keyWith({ limit, window_s: DAY }, { tokens: limit * n, window_s: DAY });
    let acquires = 0;
    let charges = 0;
    const ns = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.RATE_LIMITER.get(id);
        return {
          acquire: (...a: Parameters<typeof stub.acquire>) => {
            acquires++;
            return stub.acquire(...a);
          },
          release: (...a: Parameters<typeof stub.release>) => stub.release(...a),
          chargeTokens: (...a: Parameters<typeof stub.chargeTokens>) => {
            charges++;
            return stub.chargeTokens(...a);
          },
        };
      },
    };
    const testEnv = { ...env, RATE_LIMITER: ns } as unknown as Env;
    const N = 150;
    let lost = 0;
    const start = Date.now();
    for (let i = 0; i < N; i++) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ model: MODEL, operation: 'chat', input: PROMPT }),
        }),
        testEnv,
        ctx,
      );
      expect(res.status).toBe(200);
      const f = rateLimitFields(res);
      const body = await res.json<Body>();
      const requests = f.limits.get('requests')!;
      const tokens = f.limits.get('tokens')!;
      // Requests: never more than GCRA's count in this (the key's only) isolate, whether a lease
      // or the object answered; less only by admissions a lease lost (expired unspent on a
      // loaded machine), which the object holds back until the lease is returned or expires.
      expect(requests.r).toBeLessThanOrEqual(limit - 1 - i);
      lost = Math.max(lost, limit - 1 - i - requests.r);
      expect(f.legacy.remaining).toBe(requests.r);
      expect(body.rate_limit.remaining).toBe(requests.r);
      // Tokens: never leased, each charge exact in the object; the quota refills limit·n tokens
      // a day, which a slow run sees as a token or two.
      const charged = limit * n - (i + 1) * n;
      const refill = Math.floor(((Date.now() - start) * limit * n) / (DAY * 1000)) + 1;
      expect(tokens.r).toBeGreaterThanOrEqual(charged);
      expect(tokens.r).toBeLessThanOrEqual(charged + refill);
      // The rule on the response's own figures: tokens admit ⌊r/n⌋ more, requests r more.
      expect(f.binding).toBe(Math.floor(tokens.r / n) < requests.r ? 'tokens' : 'requests');
      void waitOnExecutionContext(ctx);
    }
    console.log(
      `lease headers: ${acquires} acquire and ${charges} token calls for ${N} checks, ${lost} lost`,
    );
    // The shortfall is bounded by the admissions outstanding in leases (docs/rate-limit.md).
    expect(lost).toBeLessThanOrEqual(maxOutstanding({ limit, window_s: DAY }));
    expect(charges).toBe(N);
    // Leases answered most requests (the default pool leases a busy key).
    expect(acquires).toBeLessThan(N / 2);
  });
});
