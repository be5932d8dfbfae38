/**
 * The token quota (docs/tokens.md): a key's `token_limit` enforced in its RATE_LIMITER object.
 * Prompts go to an `estimate` model, so no BPE tokenizer loads; each test learns its prompt's
 * count from an admitted response rather than hard-coding the estimate.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/rate-limit/rate-limiter';
import { countRows, waitFor } from './audit-helpers';
import { admin, check, createKey } from './helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

const MODEL = 'llama-3-70b';
const PROMPT = 'Summarise the quarterly report in three short bullet points, please.';
const DAY = 86_400; // refill is negligible (quota/86 400 per second) within a test

interface Problem {
  type: string;
  status: number;
  decision_id: string;
  retry_after_s?: number;
  input_tokens: number;
  token_limit: { limit: number; remaining: number; reset_s: number };
}

async function keyWith(token_limit: { tokens: number; window_s: number } | null) {
  return createKey({
    name: 'token-quota',
    policy: {
      models: ['*'],
      rate_limit: { limit: 1000, window_s: 60 },
      ...(token_limit ? { token_limit } : {}),
    },
  });
}

const ask = (key: string, input: string = PROMPT) =>
  check(key, { model: MODEL, operation: 'chat', input });

/** The prompt's counted input tokens, from a key with a large quota. */
async function promptTokens(input: string = PROMPT): Promise<number> {
  const { key } = await keyWith({ tokens: 1_000_000, window_s: DAY });
  const res = await ask(key, input);
  expect(res.status).toBe(200);
  const body = await res.json<{ usage: { input_tokens: number; tokenizer: string } }>();
  expect(body.usage.tokenizer).toBe('estimate');
  expect(body.usage.input_tokens).toBeGreaterThan(1);
  return body.usage.input_tokens;
}

describe('token_limit', () => {
  it('admits exactly the requests that fit when concurrent requests total 2× the quota', async () => {
    const n = await promptTokens();
    const { id, key } = await keyWith({ tokens: 10 * n, window_s: DAY });
    const before = sample(await scrape(), 'token_quota_refusals_total', {
      api_key_id: id,
      reason: 'exceeded',
    });
    const responses = await Promise.all(Array.from({ length: 20 }, () => ask(key)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);

    const refused = responses.find((r) => r.status === 429)!;
    expect(refused.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    const p = await refused.json<Problem>();
    expect(p.type).toMatch(/:token-quota-exceeded$/);
    expect(p.status).toBe(429);
    expect(p.input_tokens).toBe(n);
    expect(p.token_limit).toMatchObject({ limit: 10 * n, remaining: 0 });
    // n tokens of a 10n-per-day quota refill in a tenth of a day, less the few seconds since the
    // first charge began to decay (a loaded machine may take seconds for the 20 requests).
    expect(p.retry_after_s).toBeLessThanOrEqual(DAY / 10);
    expect(p.retry_after_s).toBeGreaterThan(DAY / 10 - 60);
    expect(refused.headers.get('Retry-After')).toBe(String(p.retry_after_s));
    // Both quotas are listed, the refusing one marked binding (rate-limit-headers.test.ts).
    expect(refused.headers.get('RateLimit-Policy')).toBe(
      `"requests";q=1000;w=60, "tokens";q=${10 * n};qu="tokens";w=${DAY}`,
    );
    expect(refused.headers.get('RateLimit')).toMatch(
      new RegExp(`^"requests";r=\\d+;t=\\d+, "tokens";r=0;t=${p.retry_after_s};vakt-binding$`),
    );

    // Audited as token_limited (not rate_limited: that is the request quota), with its count.
    await waitFor(
      async () => (await countRows('audit_log', 'decision_id = ?', p.decision_id)) === 1,
    );
    const row = await env.DB.prepare(
      'SELECT outcome, allowed, usage FROM audit_log WHERE decision_id = ?',
    )
      .bind(p.decision_id)
      .first<{ outcome: string; allowed: number; usage: string }>();
    expect(row).toMatchObject({ outcome: 'token_limited', allowed: 0 });
    expect(JSON.parse(row!.usage)).toEqual({
      counted_tokens: n,
      tokenizer: 'estimate',
      charged: false,
    });
    await settleMetrics();
    const after = sample(await scrape(), 'token_quota_refusals_total', {
      api_key_id: id,
      reason: 'exceeded',
    });
    expect((after ?? 0) - (before ?? 0)).toBe(10);
  }, 60_000);

  it('refuses a request larger than the whole quota at once, with no Retry-After', async () => {
    const n = await promptTokens();
    const { id, key } = await keyWith({ tokens: n - 1, window_s: DAY });
    const res = await ask(key);
    expect(res.status).toBe(413);
    expect(res.headers.get('Retry-After')).toBeNull();
    const p = await res.json<Problem & { detail: string }>();
    expect(p.type).toMatch(/:token-request-too-large$/);
    expect(p.input_tokens).toBe(n);
    expect(p.token_limit.limit).toBe(n - 1);
    expect(p.detail).toContain('can never be admitted');
    // Nothing was charged: a request that fits still gets the whole quota.
    expect((await ask(key, 'Hi')).status).toBe(200);
    await settleMetrics();
    expect(
      sample(await scrape(), 'token_quota_refusals_total', { api_key_id: id, reason: 'too_large' }),
    ).toBe(1);
  }, 60_000);

  it('applies a quota change on the next request', async () => {
    const n = await promptTokens();
    const { id, key } = await keyWith({ tokens: n, window_s: DAY });
    expect((await ask(key)).status).toBe(200);
    expect((await ask(key)).status).toBe(429);
    const patched = await admin(`/admin/keys/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ policy: { token_limit: { tokens: 2 * n, window_s: DAY } } }),
    });
    expect(patched.status).toBe(200);
    // The n tokens already used still count: exactly one more request fits.
    expect((await ask(key)).status).toBe(200);
    expect((await ask(key)).status).toBe(429);
  }, 60_000);

  it('keeps the token quota’s state across a fresh object instance (eviction)', async () => {
    const n = await promptTokens();
    const { id, key } = await keyWith({ tokens: n, window_s: DAY });
    expect((await ask(key)).status).toBe(200);
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(id));
    const [fresh, rows] = await runInDurableObject(stub, (_obj, state) => {
      // A new instance has no memory of its predecessor: only storage can refuse here.
      const reborn = new RateLimiter(state, env);
      return [
        reborn.chargeTokens({ tokens: n, window_s: DAY }, 1),
        state.storage.sql.exec('SELECT limit_n, window_s FROM token_state').toArray(),
      ] as const;
    });
    expect(fresh).toMatchObject({ allowed: false, too_large: false, remaining: 0 });
    expect(rows).toEqual([{ limit_n: n, window_s: DAY }]);
  });

  it('audits a request-quota refusal as rate_limited, apart from token refusals', async () => {
    const n = await promptTokens();
    const { key } = await createKey({
      name: 'token-quota',
      policy: {
        models: ['*'],
        rate_limit: { limit: 1, window_s: 60 },
        token_limit: { tokens: 100 * n, window_s: DAY },
      },
    });
    expect((await ask(key)).status).toBe(200);
    const refused = await ask(key);
    expect(refused.status).toBe(429);
    const p = await refused.json<{ type: string; decision_id: string }>();
    expect(p.type).toMatch(/:quota-exceeded$/);
    await waitFor(
      async () => (await countRows('audit_log', 'decision_id = ?', p.decision_id)) === 1,
    );
    const row = await env.DB.prepare('SELECT outcome, usage FROM audit_log WHERE decision_id = ?')
      .bind(p.decision_id)
      .first<{ outcome: string; usage: string | null }>();
    // Refused before counting: no token figures.
    expect(row).toEqual({ outcome: 'rate_limited', usage: null });
  }, 60_000);

  it('leaves a key without token_limit alone (no count, no charge)', async () => {
    const { key } = await keyWith(null);
    const responses = await Promise.all(Array.from({ length: 5 }, () => ask(key)));
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(await r.json()).not.toHaveProperty('usage');
    }
  }, 60_000);
});
