/** POST /v1/usage: reports after the call, their idempotency, charging and every refusal. */
import {
  createExecutionContext,
  createScheduledController,
  env,
  runInDurableObject,
  SELF,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { app } from '../../src/app';
import { AUDIT_RETENTION_CRON } from '../../src/audit/limits';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { beforeAll, describe, expect, it } from 'vitest';
import { usageEventId } from '../../src/tokens/report';
import { countRows, waitFor } from './audit-helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';
import { admin, BASE, check, createKey } from './helpers';

function report(key: string, body: unknown): Promise<Response> {
  return SELF.fetch(BASE + '/v1/usage', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

let owner: { id: string; key: string };
let other: { id: string; key: string };
let decisionId: string;

/** A decision of `key`, once its audit event is stored (the usage route looks it up there). */
async function decide(key: string): Promise<string> {
  const res = await check(key, { model: 'mistral-large', operation: 'chat', input: 'Hei' });
  expect(res.status).toBe(200);
  const { decision_id } = (await res.json()) as { decision_id: string };
  await waitFor(async () => (await countRows('audit_log', 'decision_id = ?', decision_id)) === 1);
  return decision_id;
}

const DAY = 86_400; // refill is negligible (quota/86 400 per second) within a test
/** 'Hei' to an estimate model: its counted input tokens (learnt from the first decision). */
let promptTokens: number;

/** A key with a token quota of `tokens` per day. */
function limitedKey(tokens: number) {
  return createKey({
    name: 'usage-charged',
    policy: { models: ['*'], token_limit: { tokens, window_s: DAY } },
  });
}

/** The key's token quota as its object holds it now (a charge of 0 changes nothing). */
function quota(id: string, tokens: number) {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(id));
  return stub.chargeTokens({ tokens, window_s: DAY }, 0);
}

async function chargeOf(decision: string): Promise<string | undefined> {
  const row = await env.DB.prepare('SELECT charge FROM token_usage WHERE decision_id = ?')
    .bind(decision)
    .first<{ charge: string }>();
  return row?.charge;
}

beforeAll(async () => {
  owner = await createKey({ name: 'owner', policy: { models: ['*'] } });
  other = await createKey({ name: 'other', policy: { models: ['*'] } });
  decisionId = await decide(owner.key);
  const probe = await limitedKey(1_000_000);
  const res = await check(probe.key, { model: 'mistral-large', operation: 'chat', input: 'Hei' });
  promptTokens = ((await res.json()) as { usage: { input_tokens: number } }).usage.input_tokens;
  expect(promptTokens).toBeGreaterThan(0);
}, 60_000);

describe('POST /v1/usage', () => {
  it('records the first report and replays it on a retry without recording twice', async () => {
    const body = { decision_id: decisionId, output_tokens: 312, input_tokens: 40 };
    const first = await report(owner.key, body);
    expect(first.status).toBe(200);
    const r1 = (await first.json()) as Record<string, unknown>;
    expect(r1).toMatchObject({ ...body, replayed: false, charged: false });
    const again = await Promise.all([report(owner.key, body), report(owner.key, body)]);
    for (const res of again) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ...r1, replayed: true });
    }
    expect(await countRows('token_usage', 'decision_id = ?', decisionId)).toBe(1);
    // The owner key has no token_limit: recorded, not charged, and its object never asked.
    expect(await chargeOf(decisionId)).toBe('none');
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(owner.id));
    const charges = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec('SELECT count(*) AS n FROM usage_charges').one(),
    );
    expect(charges.n).toBe(0);
  });

  it('refuses different figures for a reported decision (409)', async () => {
    const res = await report(owner.key, { decision_id: decisionId, output_tokens: 999 });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ type: 'urn:vakt:problem:usage-already-reported' });
  });

  it('refuses another key’s decision (403) and an unknown one (404, Retry-After)', async () => {
    const foreign = await report(other.key, { decision_id: decisionId, output_tokens: 1 });
    expect(foreign.status).toBe(403);
    const unknown = await report(owner.key, { decision_id: crypto.randomUUID(), output_tokens: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('Retry-After')).toBe('1');
    expect(unknown.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses a report past the horizon (409)', async () => {
    const late = await decide(owner.key);
    // Age the stored decision past USAGE_REPORT_HORIZON_S (86,400 s in wrangler.toml).
    await env.DB.prepare('UPDATE audit_log SET ts = ts - ? WHERE decision_id = ?')
      .bind(86_401_000, late)
      .run();
    const res = await report(owner.key, { decision_id: late, output_tokens: 5 });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ type: 'urn:vakt:problem:usage-too-late' });
    expect(await countRows('token_usage', 'decision_id = ?', late)).toBe(0);
  });

  it.each([
    [{ output_tokens: 1 }, '/decision_id'],
    [{ decision_id: 'nope', output_tokens: 1 }, '/decision_id'],
    [{ decision_id: '0b1d5a57-3c4e-4d1e-9f43-2a6b8f0c1d2e' }, '/output_tokens'],
    [{ decision_id: '0b1d5a57-3c4e-4d1e-9f43-2a6b8f0c1d2e', output_tokens: -1 }, '/output_tokens'],
    [{ decision_id: '0b1d5a57-3c4e-4d1e-9f43-2a6b8f0c1d2e', output_tokens: 1.5 }, '/output_tokens'],
    [
      { decision_id: '0b1d5a57-3c4e-4d1e-9f43-2a6b8f0c1d2e', output_tokens: 1, extra: 1 },
      '/',
    ] /* unknown keys are the client's words, never echoed */,
  ])('400 names the field: %j', async (body, path) => {
    const res = await report(owner.key, body);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path)).toContain(path);
  });

  it('needs an API key (401)', async () => {
    const res = await SELF.fetch(BASE + '/v1/usage', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ decision_id: decisionId, output_tokens: 1 }),
    });
    expect(res.status).toBe(401);
  });
});

describe('POST /v1/usage charges the token quota', () => {
  const T = 10_000;

  it('charges once under retries and concurrent duplicates', async () => {
    const k = await limitedKey(T);
    const d = await decide(k.key);
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens);
    const body = { decision_id: d, output_tokens: 300 };
    const all = await Promise.all(Array.from({ length: 6 }, () => report(k.key, body)));
    const receipts = await Promise.all(all.map((r) => r.json<Record<string, unknown>>()));
    expect(all.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(receipts.filter((r) => r.replayed === false)).toHaveLength(1);
    for (const r of receipts) expect(r).toMatchObject({ ...body, charged: true });
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens - 300);
    // A later retry: the stored receipt, nothing charged again.
    const retry = await report(k.key, body);
    expect(await retry.json()).toMatchObject({ replayed: true, charged: true });
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens - 300);
    expect(await chargeOf(d)).toBe('charged');
  }, 60_000);

  it('charges past the quota: the debt refuses input checks until it drains', async () => {
    // Quota of 10 prompts; the decision used 1, the report owes 10 more → 1 prompt of debt.
    const t = 10 * promptTokens;
    const k = await limitedKey(t);
    const d = await decide(k.key);
    const res = await report(k.key, { decision_id: d, output_tokens: t });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ charged: true });
    const refused = await check(k.key, { model: 'mistral-large', operation: 'chat', input: 'Hei' });
    expect(refused.status).toBe(429);
    const p = await refused.json<{ type: string; retry_after_s: number }>();
    expect(p.type).toMatch(/:token-quota-exceeded$/);
    // Debt 11 prompts, a prompt fits at ≤ 9: two prompts' refill = a fifth of a day (less the
    // seconds a loaded run takes between the charge and this check).
    expect(p.retry_after_s).toBeLessThanOrEqual(DAY / 5);
    expect(p.retry_after_s).toBeGreaterThan(DAY / 5 - 60);
    // The drain, on the object's clock: refused just before, admitted from then on.
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(k.id));
    const at = Date.now() + p.retry_after_s * 1000;
    const rule = { tokens: t, window_s: DAY };
    expect((await stub.chargeTokens(rule, promptTokens, at - 61_000)).allowed).toBe(false);
    const after = await stub.chargeTokens(rule, promptTokens, at);
    expect(after.allowed).toBe(true);
  }, 60_000);

  it('completes a charge left pending by a crash, once, when the report is sent again', async () => {
    const k = await limitedKey(T);
    // Crash before the object was told: the row is stored, pending.
    const d1 = await decide(k.key);
    await env.DB.prepare(
      "INSERT INTO token_usage (decision_id, api_key_id, output_tokens, input_tokens, reported_at, charge) VALUES (?, ?, 50, NULL, ?, 'pending')",
    )
      .bind(d1, k.id, Date.now())
      .run();
    // Crash after the object charged, before the row was marked.
    const d2 = await decide(k.key);
    await env.DB.prepare(
      "INSERT INTO token_usage (decision_id, api_key_id, output_tokens, input_tokens, reported_at, charge) VALUES (?, ?, 70, NULL, ?, 'pending')",
    )
      .bind(d2, k.id, Date.now())
      .run();
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(k.id));
    await stub.chargeUsage({ tokens: T, window_s: DAY }, d2, 70, 3 * DAY * 1000);
    const base = T - 2 * promptTokens - 70;
    expect((await quota(k.id, T)).remaining).toBe(base);

    for (const [d, n] of [
      [d1, 50],
      [d2, 70],
    ] as const) {
      const res = await report(k.key, { decision_id: d, output_tokens: n });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ replayed: true, charged: true });
      expect(await chargeOf(d)).toBe('charged');
    }
    // d1's 50 charged now; d2's 70 not a second time.
    expect((await quota(k.id, T)).remaining).toBe(base - 50);
  }, 60_000);
});

interface AuditRecordJson {
  decision_id: string;
  kind?: string;
  outcome: string;
  allowed: boolean;
  input_decision_id?: string;
  model: string;
  usage?: Record<string, unknown>;
}

/** The admin API's record of `id`, once the consumer stored it. */
async function auditRecord(id: string): Promise<AuditRecordJson> {
  await waitFor(async () => (await countRows('audit_log', 'decision_id = ?', id)) === 1);
  const res = await admin(`/admin/audit/${id}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe('an unreachable token quota', () => {
  /** RATE_LIMITER objects whose every call throws (the object is down). */
  const down = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () =>
      new Proxy(
        {},
        {
          get: () => () => {
            throw new Error('RATE_LIMITER unavailable (injected)');
          },
        },
      ),
  } as unknown as Env['RATE_LIMITER'];

  it('answers 503 with the report stored and pending; the same report sent again charges it', async () => {
    const T = 10_000;
    const k = await limitedKey(T);
    const d = await decide(k.key);
    const body = { decision_id: d, output_tokens: 40 };
    const ctx = createExecutionContext();
    const req = new Request(BASE + '/v1/usage', {
      method: 'POST',
      headers: { Authorization: `Bearer ${k.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const res = await app.fetch(req, { ...env, RATE_LIMITER: down }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(await res.json()).toMatchObject({ detail: expect.stringMatching(/report is stored/) });
    expect(await chargeOf(d)).toBe('pending');
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens);
    // No usage event for a charge that has not happened.
    expect(await countRows('audit_log', 'input_decision_id = ?', d)).toBe(0);

    const again = await report(k.key, body);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ replayed: true, charged: true });
    expect(await chargeOf(d)).toBe('charged');
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens - 40);
    await waitFor(async () => (await countRows('audit_log', 'input_decision_id = ?', d)) === 1);
  }, 60_000);
});

describe('the daily cron', () => {
  const pending = (d: string, keyId: string, n: number, at: number) =>
    env.DB.prepare(
      "INSERT INTO token_usage (decision_id, api_key_id, output_tokens, input_tokens, reported_at, charge) VALUES (?, ?, ?, NULL, ?, 'pending')",
    )
      .bind(d, keyId, n, at)
      .run();

  it('completes charges left pending (once), leaves recent ones to their request, audits them', async () => {
    const T = 10_000;
    const k = await limitedKey(T);
    const now = Date.now();
    // Left pending an hour ago: not charged yet / charged by the object before the crash.
    const [d1, d2, recent] = [await decide(k.key), await decide(k.key), await decide(k.key)];
    await pending(d1, k.id, 30, now - 3_600_000);
    await pending(d2, k.id, 20, now - 3_600_000);
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(k.id));
    await stub.chargeUsage({ tokens: T, window_s: DAY }, d2, 20, 3 * DAY * 1000);
    // A minute old: its own request may still be settling it.
    await pending(recent, k.id, 10, now - 60_000);
    // Owner key: no token_limit — settled as not charged.
    const d3 = await decide(owner.key);
    await pending(d3, owner.id, 5, now - 3_600_000);
    const base = T - 3 * promptTokens - 20;
    expect((await quota(k.id, T)).remaining).toBe(base);

    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: AUDIT_RETENTION_CRON, scheduledTime: new Date(now) }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);

    expect((await quota(k.id, T)).remaining).toBe(base - 30);
    expect(await chargeOf(d1)).toBe('charged');
    expect(await chargeOf(d2)).toBe('charged');
    expect(await chargeOf(recent)).toBe('pending');
    expect(await chargeOf(d3)).toBe('none');
    for (const d of [d1, d2, d3]) {
      await waitFor(async () => (await countRows('audit_log', 'input_decision_id = ?', d)) === 1);
    }
    const event = await auditRecord(await usageEventId(d1));
    expect(event).toMatchObject({ kind: 'usage', usage: { output_tokens: 30, charged: true } });
  }, 60_000);
});

describe('usage in the audit log', () => {
  it('stores one usage event per reported decision, linked to it', async () => {
    const k = await limitedKey(10_000);
    const d = await decide(k.key);
    const body = { decision_id: d, output_tokens: 120, input_tokens: 7 };
    await Promise.all([report(k.key, body), report(k.key, body)]);
    expect((await report(k.key, body)).status).toBe(200);
    const id = await usageEventId(d);
    const record = await auditRecord(id);
    expect(record).toMatchObject({
      kind: 'usage',
      outcome: 'usage',
      allowed: false,
      input_decision_id: d,
      model: 'mistral-large',
      usage: { output_tokens: 120, input_tokens: 7, charged: true },
    });
    expect(await countRows('audit_log', 'input_decision_id = ?', d)).toBe(1);
    // The decision's own row is untouched by the report; it carries its counted tokens.
    const decision = await auditRecord(d);
    expect(decision.kind).toBeUndefined();
    expect(decision.usage).toMatchObject({ counted_tokens: promptTokens, charged: true });
  }, 60_000);

  it('has no `charged` figure for a key without token_limit (nothing to charge)', async () => {
    const d = await decide(owner.key);
    expect((await report(owner.key, { decision_id: d, output_tokens: 3 })).status).toBe(200);
    const record = await auditRecord(await usageEventId(d));
    expect(record.usage).toEqual({ output_tokens: 3 });
  }, 60_000);
});

describe('output checks with usage', () => {
  const T = 10_000;
  const answer = (key: string, extra: Record<string, unknown>) =>
    check(key, { model: 'mistral-large', operation: 'chat', output: 'Hei på deg', ...extra });

  it('charge the reported output tokens once per input decision, shared with POST /v1/usage', async () => {
    const k = await limitedKey(T);
    const d = await decide(k.key);
    // Chat Completions naming, with the fields vakt ignores.
    const usage = { prompt_tokens: 5, completion_tokens: 200, total_tokens: 205 };
    const outputTokens = async () => {
      await settleMetrics();
      return (
        sample(await scrape(), 'tokens_total', { model: 'mistral-*', direction: 'output' }) ?? 0
      );
    };
    const before = await outputTokens();
    const first = await answer(k.key, { input_decision_id: d, usage });
    expect(first.status).toBe(200);
    const { decision_id: out } = await first.json<{ decision_id: string }>();
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens - 200);
    // A retried output check and a later POST /v1/usage for the same decision: no new charge.
    expect((await answer(k.key, { input_decision_id: d, usage })).status).toBe(200);
    const res = await report(k.key, { decision_id: d, output_tokens: 200, input_tokens: 5 });
    expect(await res.json()).toMatchObject({ charged: true, replayed: false });
    expect((await quota(k.id, T)).remaining).toBe(T - promptTokens - 200);
    // Counted once too, like the charge.
    expect((await outputTokens()) - before).toBe(200);

    const record = await auditRecord(out);
    expect(record).toMatchObject({
      input_decision_id: d,
      usage: { output_tokens: 200, input_tokens: 5, charged: true, tokenizer: 'estimate' },
    });
    expect(record.usage).not.toHaveProperty('total_tokens');
  }, 60_000);

  it('charge past the quota (the answer exists) and are recorded for a key without token_limit', async () => {
    const k = await limitedKey(4 * promptTokens);
    const d = await decide(k.key);
    const res = await answer(k.key, { input_decision_id: d, usage: { output_tokens: 50_000 } });
    expect(res.status).toBe(200);
    expect((await quota(k.id, 4 * promptTokens)).remaining).toBe(0);
    expect(
      (await check(k.key, { model: 'mistral-large', operation: 'chat', input: 'Hei' })).status,
    ).toBe(429);

    const plain = await answer(owner.key, { usage: { output_tokens: 9 } });
    expect(plain.status).toBe(200);
    const { decision_id } = await plain.json<{ decision_id: string }>();
    expect((await auditRecord(decision_id)).usage).toEqual({ output_tokens: 9 });
  }, 60_000);

  it.each([
    [{ input: 'Hei', usage: { output_tokens: 1 } }, '/usage'],
    [{ output: 'Hei', usage: { input_tokens: 1 } }, '/usage/output_tokens'],
    [
      { output: 'Hei', usage: { output_tokens: 1, completion_tokens: 1 } },
      '/usage/completion_tokens',
    ],
    [{ output: 'Hei', usage: { output_tokens: -1 } }, '/usage/output_tokens'],
    [{ output: 'Hei', usage: { output_tokens: 20_000_000 } }, '/usage/output_tokens'],
  ])('400 names the field: %j', async (extra, path) => {
    const res = await check(owner.key, { model: 'mistral-large', operation: 'chat', ...extra });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path)).toContain(path);
  });
});
