/**
 * End to end through the REAL local queue: POST /v1/check → AUDIT_QUEUE → the vakt-audit consumer
 * → D1. The local queue delivers after max_batch_timeout (1 s), so D1 is polled with a bound.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import type { AuditMessageBody } from '../../src/audit/event';
import worker from '../../src/index';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE, admin, check, createKey } from './helpers';
import { auditIds, clearAudit, countRows, waitFor } from './audit-helpers';

const FNR = '01010012356';
const EMAIL = 'kari.nordmann@example.com';

describe('audit end to end through the local queue', () => {
  beforeAll(clearAudit);

  it('records N decisions as exactly N rows whose ids are the response decision_ids', async () => {
    const { key } = await createKey({
      name: 'e2e',
      policy: { rate_limit: { limit: 8, window_s: 3600 } },
    });
    const ids: string[] = [];
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const input = i % 3 === 0 ? `my number is ${FNR}` : `hello ${i}`;
      const res = await check(key, { model: 'gpt-4', operation: 'classify', input });
      const body = await res.json<{ decision_id: string; allowed?: boolean }>();
      expect(body.decision_id).toMatch(/^[0-9a-f-]{36}$/);
      ids.push(body.decision_id);
      outcomes.push(res.status === 429 ? 'rate_limited' : body.allowed ? 'allowed' : 'blocked');
    }
    // 8 within quota (some blocked), then 2 rate-limited: all three kinds of decision.
    expect(new Set(outcomes)).toEqual(new Set(['allowed', 'blocked', 'rate_limited']));

    await waitFor(async () => (await countRows('audit_log')) >= ids.length);
    expect(await auditIds()).toEqual([...ids].sort());

    const { results } = await env.DB.prepare(
      'SELECT decision_id, outcome, via FROM audit_log',
    ).all<{ decision_id: string; outcome: string; via: string }>();
    const stored = new Map(results.map((r) => [r.decision_id, r]));
    ids.forEach((id, i) => {
      expect(stored.get(id)).toEqual({ decision_id: id, outcome: outcomes[i], via: 'queue' });
    });
  });
});

describe('the trace id of a decision', () => {
  it('is stored with the audit row, the one the caller sent in traceparent', async () => {
    const { key } = await createKey({ name: 'traced' });
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await check(
      key,
      { model: 'gpt-4', operation: 'classify', input: 'hello' },
      { traceparent: `00-${trace}-00f067aa0ba902b7-01` },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('traceparent')).toContain(trace);
    const { decision_id } = await res.json<{ decision_id: string }>();
    // A request without traceparent starts its own trace: still a well-formed id on the row.
    const fresh = await check(key, { model: 'gpt-4', operation: 'classify', input: 'hi' });
    const freshId = (await fresh.json<{ decision_id: string }>()).decision_id;
    const freshTrace = fresh.headers.get('traceparent')?.split('-')[1];
    expect(freshTrace).toMatch(/^[0-9a-f]{32}$/);

    const traceOf = (id: string) =>
      env.DB.prepare('SELECT trace_id FROM audit_log WHERE decision_id = ?')
        .bind(id)
        .first<{ trace_id: string | null }>();
    await waitFor(
      async () => (await traceOf(freshId)) !== null && (await traceOf(decision_id)) !== null,
    );
    expect(await traceOf(decision_id)).toEqual({ trace_id: trace });
    expect(await traceOf(freshId)).toEqual({ trace_id: freshTrace });
    const viaApi = await admin(`/admin/audit/${decision_id}`);
    expect(await viaApi.json()).toMatchObject({ decision_id, trace_id: trace });
  });
});

/** Every row of every table, as JSON text (D1's own bookkeeping tables excepted). */
async function dumpAllTables(): Promise<Map<string, string>> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const out = new Map<string, string>();
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    out.set(name, JSON.stringify(results));
  }
  return out;
}

function tablesContaining(dump: Map<string, string>, needle: string): string[] {
  return [...dump].filter(([, text]) => text.includes(needle)).map(([name]) => name);
}

describe('personal data planted in a decision', () => {
  beforeAll(clearAudit);

  it('appears in no column of any table, whichever way the event was stored', async () => {
    const { key } = await createKey({ name: 'pii' });
    const planted = [
      // In the input (string and chat), where it belongs.
      { model: 'gpt-4', operation: 'classify', input: `fnr ${FNR}, mail ${EMAIL}` },
      {
        model: 'gpt-4',
        operation: 'chat',
        input: [{ role: 'user', content: `${EMAIL} ${FNR}` }],
        metadata: { user: EMAIL, [FNR]: `owner ${FNR}` },
      },
      // In the fields a client names freely.
      { model: `llm ${FNR}`, operation: EMAIL, input: 'x' },
    ];
    const ids: string[] = [];
    for (const body of planted) {
      const res = await check(key, body, { 'X-Request-Id': FNR });
      expect(res.status).toBe(200);
      ids.push((await res.json<{ decision_id: string }>()).decision_id);
    }
    // The producer's fallback (queue refuses every send) writes to D1 directly.
    const brokenQueue = {
      sendBatch: () => Promise.reject(new Error('injected')),
    } as unknown as Queue<AuditMessageBody>;
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(BASE + '/v1/check', {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/json',
          'X-Request-Id': FNR,
        },
        body: JSON.stringify({
          model: 'gpt-4',
          operation: 'classify',
          input: `${FNR} ${EMAIL}`,
          metadata: { contact: EMAIL },
        }),
      }),
      { ...env, AUDIT_QUEUE: brokenQueue },
      ctx,
    );
    ids.push((await res.json<{ decision_id: string }>()).decision_id);
    await waitOnExecutionContext(ctx);
    // A malformed message carrying personal data goes to the dead-letter table.
    const malformed = { v: 1, decision_id: crypto.randomUUID(), model: FNR, note: EMAIL };
    await env.AUDIT_QUEUE.send(malformed as unknown as AuditMessageBody);

    await waitFor(
      async () =>
        (await countRows('audit_log')) >= ids.length &&
        (await countRows('audit_dead_letters')) >= 1,
    );
    expect(await auditIds()).toEqual([...ids].sort());
    const { results: via } = await env.DB.prepare(
      'SELECT via, count(*) AS n FROM audit_log GROUP BY via ORDER BY via',
    ).all();
    expect(via).toEqual([
      { via: 'fallback', n: 1 },
      { via: 'queue', n: 3 },
    ]);

    const dump = await dumpAllTables();
    expect([...dump.keys()]).toEqual(
      expect.arrayContaining(['audit_log', 'audit_log_reasons', 'audit_dead_letters', 'api_keys']),
    );
    expect(tablesContaining(dump, FNR)).toEqual([]);
    expect(tablesContaining(dump, EMAIL)).toEqual([]);
    // …and what is stored instead.
    const row = await env.DB.prepare(
      'SELECT model, operation, request_id FROM audit_log WHERE decision_id = ?',
    )
      .bind(ids[2])
      .first();
    expect(row).toEqual({
      model: 'llm [NO_FODSELSNUMMER]',
      operation: '[EMAIL]',
      // The request-id middleware already refused the caller's id (it carried personal data).
      request_id: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });

    // The scan itself can find a planted value (a control, so the assertions above can fail).
    await env.DB.exec(`CREATE TABLE pii_probe (v TEXT); INSERT INTO pii_probe VALUES ('${FNR}')`);
    expect(tablesContaining(await dumpAllTables(), FNR)).toEqual(['pii_probe']);
    await env.DB.exec('DROP TABLE pii_probe');
  });
});
