/** POST /v1/usage: reports after the call, their idempotency and every refusal. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { countRows, waitFor } from './audit-helpers';
import { BASE, check, createKey } from './helpers';

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

beforeAll(async () => {
  owner = await createKey({ name: 'owner', policy: { models: ['*'] } });
  other = await createKey({ name: 'other', policy: { models: ['*'] } });
  decisionId = await decide(owner.key);
}, 60_000);

describe('POST /v1/usage', () => {
  it('records the first report and replays it on a retry without recording twice', async () => {
    const body = { decision_id: decisionId, output_tokens: 312, input_tokens: 40 };
    const first = await report(owner.key, body);
    expect(first.status).toBe(200);
    const r1 = (await first.json()) as Record<string, unknown>;
    expect(r1).toMatchObject({ ...body, replayed: false });
    const again = await Promise.all([report(owner.key, body), report(owner.key, body)]);
    for (const res of again) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ...r1, replayed: true });
    }
    expect(await countRows('token_usage', 'decision_id = ?', decisionId)).toBe(1);
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
