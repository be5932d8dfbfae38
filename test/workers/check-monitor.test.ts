/**
 * Monitor mode (policy `mode: "monitor"`): the decision is computed in full, but nothing is
 * blocked or altered; the response's `monitor` says what enforce mode would have done. Audited
 * with the outcome `monitored` and the would-be reasons, counted in governance_monitored_total.
 * Switching the key back to enforce blocks the same request.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { admin, check, createKey } from './helpers';
import { waitFor } from './audit-helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

const FNR = '01010012356';
const body = {
  model: 'gpt-4',
  operation: 'summarize',
  input: [
    { role: 'user', content: [{ type: 'text', text: `Oppsummer saken til ${FNR}` }] },
    { role: 'user', content: 'Svar til kari@example.no' },
  ],
};

interface Decision {
  decision_id: string;
  allowed: boolean;
  reasons: string[];
  findings: unknown[];
  redacted_input: unknown;
  monitor?: {
    would_allow: boolean;
    reasons: string[];
    findings: Array<{ type: string; path: string; action: string }>;
  };
}

async function decide(key: string, b: Record<string, unknown> = body): Promise<Decision> {
  const res = await check(key, b);
  expect(res.status).toBe(200);
  return res.json();
}

const monitored = (text: string, reason: string) =>
  sample(text, 'governance_monitored_total', { model: 'gpt-4', operation: 'summarize', reason }) ??
  0;
const blocked = (text: string, reason: string) =>
  sample(text, 'governance_blocked_total', { model: 'gpt-4', operation: 'summarize', reason }) ?? 0;

describe('monitor mode', () => {
  it('allows and alters nothing, and says what enforce would have done', async () => {
    const { key } = await createKey({ name: 'shadow', policy: { mode: 'monitor' } });
    const d = await decide(key);
    expect(d).toMatchObject({ allowed: true, reasons: [], findings: [], redacted_input: null });
    expect(d.monitor).toEqual({
      would_allow: false,
      reasons: ['contains_personal_data'],
      findings: [
        expect.objectContaining({
          type: 'no_fodselsnummer',
          path: '/0/content/0/text',
          action: 'block',
        }),
        expect.objectContaining({ type: 'email', path: '/1/content', action: 'redact' }),
      ],
    });
  });

  it('reports would_allow for a call enforce mode would allow (and would redact)', async () => {
    const { key } = await createKey({ name: 'shadow-ok', policy: { mode: 'monitor' } });
    const d = await decide(key, { ...body, input: 'Svar til kari@example.no' });
    expect(d).toMatchObject({ allowed: true, findings: [], redacted_input: null });
    expect(d.monitor).toMatchObject({ would_allow: true, reasons: [] });
    expect(d.monitor!.findings).toHaveLength(1);
  });

  it('applies to output checks too', async () => {
    const { key } = await createKey({ name: 'shadow-out', policy: { mode: 'monitor' } });
    const d = await decide(key, { model: 'gpt-4', operation: 'summarize', output: `fnr ${FNR}` });
    expect(d).toMatchObject({
      allowed: true,
      redacted_output: null,
      monitor: { would_allow: false },
    });
  });

  it('audits the decision as monitored with the would-be reasons and counts it', async () => {
    await settleMetrics();
    const before = await scrape();
    const { key } = await createKey({ name: 'shadow-audit', policy: { mode: 'monitor' } });
    const d = await decide(key, { ...body, model: 'my-own-llm' });
    expect(d.allowed).toBe(true);

    await waitFor(async () =>
      Boolean(
        await env.DB.prepare('SELECT 1 FROM audit_log WHERE decision_id = ?')
          .bind(d.decision_id)
          .first(),
      ),
    );
    const res = await admin(`/admin/audit/${d.decision_id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      decision_id: d.decision_id,
      allowed: true,
      outcome: 'monitored',
      reasons: ['external_model_detected', 'contains_personal_data'],
      finding_counts: { no_fodselsnummer: 1, email: 1 },
    });
    const listed = await admin(`/admin/audit?reason=contains_personal_data&limit=100`);
    const items = ((await listed.json()) as { items: Array<{ decision_id: string }> }).items;
    expect(items.map((i) => i.decision_id)).toContain(d.decision_id);
    const byOutcome = await admin(`/admin/audit?outcome=monitored&limit=100`);
    expect(byOutcome.status).toBe(200);
    const monitoredIds = ((await byOutcome.json()) as { items: Array<{ decision_id: string }> })
      .items;
    expect(monitoredIds.map((i) => i.decision_id)).toContain(d.decision_id);

    // A monitored key's call that enforce mode would allow too is simply `allowed`.
    const clean = await decide(key, { model: 'gpt-4', operation: 'summarize', input: 'Hei' });
    await waitFor(async () =>
      Boolean(
        await env.DB.prepare('SELECT 1 FROM audit_log WHERE decision_id = ?')
          .bind(clean.decision_id)
          .first(),
      ),
    );
    const cleanRow = await admin(`/admin/audit/${clean.decision_id}`);
    expect(await cleanRow.json()).toMatchObject({ outcome: 'allowed', reasons: [] });

    await settleMetrics();
    const after = await scrape();
    const ext = (t: string) =>
      sample(t, 'governance_monitored_total', {
        model: 'external-model',
        operation: 'summarize',
        reason: 'external_model_detected',
      }) ?? 0;
    expect(ext(after) - ext(before)).toBe(1);
    const pd = (t: string) =>
      sample(t, 'governance_monitored_total', {
        model: 'external-model',
        operation: 'summarize',
        reason: 'contains_personal_data',
      }) ?? 0;
    expect(pd(after) - pd(before)).toBe(1);
    // Allowed, not blocked: the contract families see what happened to the call.
    expect(
      (sample(after, 'governance_allowed_total', {
        model: 'external-model',
        operation: 'summarize',
      }) ?? 0) -
        (sample(before, 'governance_allowed_total', {
          model: 'external-model',
          operation: 'summarize',
        }) ?? 0),
    ).toBe(1);
    expect(after).toMatch(/# HELP governance_monitored_total .+/);
  });

  it('blocks the same request once the key is switched to enforce', async () => {
    const { id, key } = await createKey({ name: 'shadow-switch', policy: { mode: 'monitor' } });
    await settleMetrics();
    const before = await scrape();
    expect((await decide(key)).allowed).toBe(true);

    const patched = await admin(`/admin/keys/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ policy: { mode: 'enforce' } }),
    });
    expect(patched.status).toBe(200);
    const d = await decide(key);
    expect(d).toMatchObject({ allowed: false, reasons: ['contains_personal_data'] });
    expect(d).not.toHaveProperty('monitor');

    await settleMetrics();
    const after = await scrape();
    expect(
      monitored(after, 'contains_personal_data') - monitored(before, 'contains_personal_data'),
    ).toBe(1);
    expect(
      blocked(after, 'contains_personal_data') - blocked(before, 'contains_personal_data'),
    ).toBe(1);
  });

  it('refuses an unknown mode with a pointer', async () => {
    const res = await admin('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'bad', policy: { mode: 'shadow' } }),
    });
    expect(res.status).toBe(400);
    const p = (await res.json()) as { errors: Array<{ path: string }> };
    expect(p.errors.map((e) => e.path)).toEqual(['/policy/mode']);
  });
});
