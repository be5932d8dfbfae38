/**
 * Issue 13's "done when", through the real local stack: a burst of 10,000 decisions (250 in
 * flight, 10 keys) through the app → packed AUDIT_QUEUE messages → the audit consumer → R2
 * archive and D1, with metrics through the METRICS objects. Requests enter through `app.fetch` in
 * the test's isolate (the pool's SELF hop costs ~50 ms per request); everything behind the app is
 * real. Then:
 *   - exactly one D1 row per decision (0 lost, 0 duplicated, no dead letters);
 *   - exactly one event per decision in GET /admin/audit/export (after its dedup), in time order;
 *   - logs_dropped_total unchanged, logs_queued_total +10,000, and logs_queue_messages_total grew
 *     by ≤ 1/20 of the decisions (the packing ratio is printed).
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { ADMIN_TOKEN, BASE, createKey } from './helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

const DECISIONS = 10_000;
const KEYS = 10;
const IN_FLIGHT = 250;

async function call(req: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(req, env, ctx);
  const body = new Response(await res.arrayBuffer(), res);
  await waitOnExecutionContext(ctx);
  return body;
}

describe('a burst of 10,000 decisions', { timeout: 300_000 }, () => {
  it('one D1 row and one exported event each, ≥ 20 events per queue message, 0 lost', async () => {
    const keys = await Promise.all(
      Array.from({ length: KEYS }, (_, i) =>
        createKey({
          name: `burst-${i}`,
          policy: { rate_limit: { limit: 1_000_000, window_s: 1 } },
        }),
      ),
    );
    await settleMetrics();
    const before = await scrape();
    const inputs = [
      'Summarise the quarterly report for the board, please.',
      'Send the minutes to kari.nordmann@example.no before Friday.',
      'Her fødselsnummer is 01010012356, please check.',
    ];
    const since = new Date(Date.now() - 1000).toISOString();
    const started = Date.now();
    const ids: string[] = new Array<string>(DECISIONS);
    let next = 0;
    const lane = async () => {
      while (next < DECISIONS) {
        const i = next++;
        const res = await call(
          new Request(BASE + '/v1/check', {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${keys[i % KEYS]!.key}`,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input: inputs[i % 3] }),
          }),
        );
        expect(res.status).toBe(200);
        ids[i] = (await res.json<{ decision_id: string }>()).decision_id;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    const burstMs = Date.now() - started;
    expect(new Set(ids).size).toBe(DECISIONS);

    // D1: exactly one row per decision, once the real queue has delivered (bounded poll).
    const keyIds = keys.map((k) => k.id);
    const inKeys = `api_key_id IN (${keyIds.map(() => '?').join(', ')})`;
    const count = async () =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM audit_log WHERE ${inKeys}`)
        .bind(...keyIds)
        .first<{ n: number }>())!.n;
    const deadline = Date.now() + 90_000;
    while ((await count()) < DECISIONS && Date.now() < deadline) await scheduler.wait(200);
    const { results } = await env.DB.prepare(`SELECT decision_id FROM audit_log WHERE ${inKeys}`)
      .bind(...keyIds)
      .all<{ decision_id: string }>();
    expect(results).toHaveLength(DECISIONS);
    expect(new Set(results.map((r) => r.decision_id))).toEqual(new Set(ids));
    const dead = await env.DB.prepare('SELECT count(*) AS n FROM audit_dead_letters').first<{
      n: number;
    }>();
    expect(dead!.n).toBe(0);
    const storedMs = Date.now() - started;

    // The export: every decision exactly once, in time order.
    const until = new Date(Date.now() + 1000).toISOString();
    const res = await call(
      new Request(`${BASE}/admin/audit/export?since=${since}&until=${until}`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(res.status).toBe(200);
    const exported = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { decision_id: string; ts: string });
    const mine = new Set(ids);
    const ours = exported.filter((e) => mine.has(e.decision_id));
    expect(ours).toHaveLength(DECISIONS);
    expect(new Set(ours.map((e) => e.decision_id)).size).toBe(DECISIONS);
    for (let i = 1; i < exported.length; i++)
      expect(exported[i]!.ts >= exported[i - 1]!.ts).toBe(true);

    // Counters: nothing dropped, every event queued once, packed.
    await settleMetrics();
    const after = await scrape();
    const delta = (name: string) => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
    expect(delta('logs_dropped_total')).toBe(0);
    expect(delta('logs_queued_total')).toBe(DECISIONS);
    expect(delta('logs_written_total')).toBe(DECISIONS);
    const messages = delta('logs_queue_messages_total');
    expect(messages).toBeGreaterThan(0);
    expect(messages).toBeLessThanOrEqual(DECISIONS / 20);
    console.log(
      `audit burst: ${DECISIONS} decisions (${IN_FLIGHT} in flight) in ${burstMs} ms; all in D1 ` +
        `after ${storedMs} ms; ${messages} queue messages = ${(DECISIONS / messages).toFixed(1)} ` +
        `events per message; export ${ours.length} lines`,
    );
  });
});
