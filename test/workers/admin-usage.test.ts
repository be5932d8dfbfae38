/**
 * GET /admin/keys/{id}/usage: both quotas as the key's RATE_LIMITER object holds them, read
 * without consuming anything. Keys here have a request limit under 80, so they are never leased
 * (docs/rate-limit.md) and every admission is counted in the object at once; the lease case is
 * driven on the object directly.
 */
import { env, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { KeyUsage, RateLimiter } from '../../src/rate-limit/rate-limiter';
import { admin, BASE, check, createKey } from './helpers';

const MODEL = 'llama-3-70b'; // an `estimate` model: no BPE tokenizer loads
const PROMPT = 'Summarise the quarterly report in three short bullet points, please.';
const DAY = 86_400; // refill is negligible within a test

interface UsageBody extends KeyUsage {
  key_id: string;
}

async function keyWith(token_limit?: { tokens: number; window_s: number }) {
  return createKey({
    name: 'usage',
    policy: {
      models: ['*'],
      rate_limit: { limit: 50, window_s: DAY },
      ...(token_limit ? { token_limit } : {}),
    },
  });
}

async function usage(id: string): Promise<UsageBody> {
  const res = await admin(`/admin/keys/${id}/usage`);
  expect(res.status).toBe(200);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  return res.json<UsageBody>();
}

const ask = (key: string) => check(key, { model: MODEL, operation: 'chat', input: PROMPT });

describe('GET /admin/keys/{id}/usage', () => {
  it('answers 404 for an unknown key and 401 without the admin token', async () => {
    const unknown = await admin(`/admin/keys/${crypto.randomUUID()}/usage`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);

    const { id } = await keyWith();
    const anonymous = await SELF.fetch(`${BASE}/admin/keys/${id}/usage`);
    expect(anonymous.status).toBe(401);
    const wrong = await SELF.fetch(`${BASE}/admin/keys/${id}/usage`, {
      headers: { Authorization: 'Bearer not-the-admin-token' },
    });
    expect(wrong.status).toBe(401);
  });

  it('reports admitted requests, tokens null without a token_limit, and consumes nothing', async () => {
    const { id, key } = await keyWith();
    expect(await usage(id)).toEqual({
      key_id: id,
      requests: { limit: 50, window_s: DAY, used: 0, remaining: 50, leased: 0, reset_s: 0 },
      tokens: null,
    });
    for (let i = 0; i < 3; i++) expect((await ask(key)).status).toBe(200);
    // Read many times: each read must leave the quota as it was.
    for (let i = 0; i < 5; i++) {
      const u = await usage(id);
      expect(u.requests).toMatchObject({ used: 3, remaining: 47, leased: 0 });
      // 3 of 50 per day: a fiftieth of a day each, less the seconds the test has taken.
      expect(u.requests.reset_s).toBeLessThanOrEqual((3 * DAY) / 50);
      expect(u.requests.reset_s).toBeGreaterThan((3 * DAY) / 50 - 60);
    }
    const next = await ask(key);
    expect(next.status).toBe(200);
    expect((await next.json<{ rate_limit: { remaining: number } }>()).rate_limit.remaining).toBe(
      46,
    );
  });

  it('reports charged tokens; a refused charge and the reads themselves charge nothing', async () => {
    // Learn the prompt's count from an admitted answer rather than hard-coding the estimate.
    const probe = await keyWith({ tokens: 1_000_000, window_s: DAY });
    const first = await ask(probe.key);
    const n = (await first.json<{ usage: { input_tokens: number } }>()).usage.input_tokens;
    expect(n).toBeGreaterThan(1);

    const { id, key } = await keyWith({ tokens: 2 * n + 1, window_s: DAY });
    expect((await usage(id)).tokens).toEqual({
      limit: 2 * n + 1,
      window_s: DAY,
      used: 0,
      remaining: 2 * n + 1,
      overdraft: 0,
      reset_s: 0,
    });
    expect((await ask(key)).status).toBe(200);
    expect((await ask(key)).status).toBe(200);
    const refused = await ask(key);
    expect(refused.status).toBe(429);
    expect((await refused.json<{ type: string }>()).type).toMatch(/:token-quota-exceeded$/);

    const u = await usage(id);
    // Three requests admitted by the request quota (the third then refused for tokens), two charged.
    expect(u.requests).toMatchObject({ used: 3, remaining: 47 });
    expect(u.tokens).toMatchObject({ limit: 2 * n + 1, used: 2 * n, remaining: 1 });
    expect(await usage(id)).toEqual({ ...u, tokens: { ...u.tokens } });
  });

  it('counts admissions leased to isolates as used, and writes nothing to the object', async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(crypto.randomUUID()));
    await runInDurableObject(stub, (instance, state) => {
      const obj = instance as unknown as RateLimiter;
      const rule = { limit: 1000, window_s: 60 };
      const now = 1_800_000_000_000;
      const granted = obj.acquire({ rule, take: 1, lease: 20, lease_ms: 1000, version: null }, now);
      expect(granted.lease?.tokens).toBe(20);
      const rows = () => ({
        gcra: state.storage.sql.exec('SELECT * FROM gcra_state').toArray(),
        leases: state.storage.sql.exec('SELECT * FROM leases').toArray(),
        tokens: state.storage.sql.exec('SELECT * FROM token_state').toArray(),
      });
      const before = rows();
      const u = obj.usage(rule, { tokens: 500, window_s: 60 }, now + 10);
      expect(u.requests).toEqual({
        limit: 1000,
        window_s: 60,
        used: 21,
        remaining: 979,
        leased: 20,
        // The lease's floor (20 requests, 1.2 s of refill) holds until it expires 3.99 s from
        // now (1 s lifetime + 3 s return grace): the bucket is full after 5.19 s.
        reset_s: 6,
      });
      expect(u.tokens).toEqual({
        limit: 500,
        window_s: 60,
        used: 0,
        remaining: 500,
        overdraft: 0,
        reset_s: 0,
      });
      expect(rows()).toEqual(before);
      // The same read after the lease's expiry: nothing leased any more, its floor decaying.
      expect(obj.usage(rule, null, now + 5_000).requests.leased).toBe(0);
      // Reported output tokens past the quota (POST /v1/usage) show as overdraft, counted in used.
      const tokenRule = { tokens: 500, window_s: 60 };
      expect(obj.chargeUsage(tokenRule, 'decision-1', 700, 60_000, now).charged).toBe(true);
      expect(obj.usage(rule, tokenRule, now).tokens).toEqual({
        limit: 500,
        window_s: 60,
        used: 700,
        remaining: 0,
        overdraft: 200,
        // 700 tokens at 120 ms each (60 s / 500) drain in 84 s.
        reset_s: 84,
      });
    });
  });
});
