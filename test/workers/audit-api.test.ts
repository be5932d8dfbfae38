/** GET /admin/audit, GET /admin/audit/{decision_id} and the dead-letter routes. */
import { createMessageBatch, env, SELF } from 'cloudflare:test';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consumeAuditBatch, consumeDeadLetterBatch } from '../../src/audit/consumer';
import type { AuditEvent } from '../../src/audit/event';
import { toRow } from '../../src/audit/row';
import { buildAuditQuery, insertAuditRows, type AuditFilter } from '../../src/audit/store';
import type { Reason } from '../../src/governance/reasons';
import { admin, BASE } from './helpers';
import { clearAudit, failingD1, makeEvent, message } from './audit-helpers';

const KEY_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const KEY_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const T0 = Date.UTC(2026, 2, 1);

interface Item {
  decision_id: string;
  ts: string;
  api_key_id: string;
  allowed: boolean;
  outcome: string;
  reasons: string[];
}
interface Page {
  items: Item[];
  next_cursor: string | null;
}

/** 137 events over two keys, four per timestamp (ties are broken by decision_id). */
function corpus(): AuditEvent[] {
  const reasonSets: Reason[][] = [
    [],
    ['contains_personal_data'],
    ['contains_secret', 'contains_personal_data'],
    ['model_not_allowed'],
  ];
  return Array.from({ length: 137 }, (_, i) => {
    const reasons = reasonSets[i % 4]!;
    const rateLimited = i % 11 === 0;
    const allowed = !rateLimited && reasons.length === 0;
    return makeEvent({
      ts: new Date(T0 + Math.floor(i / 4) * 1000).toISOString(),
      api_key_id: i % 3 === 0 ? KEY_B : KEY_A,
      allowed,
      outcome: rateLimited ? 'rate_limited' : allowed ? 'allowed' : 'blocked',
      reasons: rateLimited ? [] : reasons,
    });
  });
}

/** Follows next_cursor to the end; fails on a page loop. */
async function pageThrough(query: string, limit: number): Promise<Item[]> {
  const out: Item[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const qs = new URLSearchParams(query);
    qs.set('limit', String(limit));
    if (cursor) qs.set('cursor', cursor);
    const res = await admin(`/admin/audit?${qs}`);
    expect(res.status).toBe(200);
    const page = await res.json<Page>();
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    if (!page.next_cursor) return out;
    cursor = page.next_cursor;
  }
  throw new Error('pagination did not end');
}

/** Newest first, decision_id descending within a millisecond. */
const newestFirst = (a: AuditEvent, b: AuditEvent) =>
  Date.parse(b.ts) - Date.parse(a.ts) || (b.decision_id < a.decision_id ? -1 : 1);

describe('GET /admin/audit', () => {
  const events = corpus();

  beforeAll(async () => {
    await clearAudit();
    await insertAuditRows(env.DB, events.map(toRow), {
      via: 'queue',
      now: Date.now(),
      archived: true,
    });
  });

  const filters: [string, string, (e: AuditEvent) => boolean][] = [
    ['no filter', '', () => true],
    ['key_id', `key_id=${KEY_B}`, (e) => e.api_key_id === KEY_B],
    ['allowed=false', 'allowed=false', (e) => !e.allowed],
    ['allowed=true', 'allowed=true', (e) => e.allowed],
    ['outcome', 'outcome=rate_limited', (e) => e.outcome === 'rate_limited'],
    [
      'reason',
      'reason=contains_personal_data',
      (e) => e.reasons.includes('contains_personal_data'),
    ],
    [
      'reason + key_id',
      `reason=contains_secret&key_id=${KEY_A}`,
      (e) => e.reasons.includes('contains_secret') && e.api_key_id === KEY_A,
    ],
    [
      'since + until',
      `since=${new Date(T0 + 5000).toISOString()}&until=${new Date(T0 + 20_000).toISOString()}`,
      (e) => Date.parse(e.ts) >= T0 + 5000 && Date.parse(e.ts) < T0 + 20_000,
    ],
    [
      'everything',
      `key_id=${KEY_A}&allowed=false&reason=model_not_allowed&since=${new Date(T0 + 3000).toISOString()}&until=${new Date(T0 + 30_000).toISOString()}`,
      (e) =>
        e.api_key_id === KEY_A &&
        !e.allowed &&
        e.reasons.includes('model_not_allowed') &&
        Date.parse(e.ts) >= T0 + 3000 &&
        Date.parse(e.ts) < T0 + 30_000,
    ],
  ];

  it.each(filters)('returns every row exactly once, newest first (%s)', async (_n, query, keep) => {
    const expected = events.filter(keep).sort(newestFirst);
    expect(expected.length).toBeGreaterThan(3);
    for (const limit of [1, 7, 50, 200]) {
      if (limit === 1 && expected.length > 40) continue;
      const items = await pageThrough(query, limit);
      expect(items.map((i) => i.decision_id)).toEqual(expected.map((e) => e.decision_id));
    }
  });

  it('keeps pages stable while new decisions arrive', async () => {
    const first = await admin('/admin/audit?limit=20');
    const page1 = await first.json<Page>();
    const newer = makeEvent({ ts: new Date(T0 + 10_000_000).toISOString() });
    await insertAuditRows(env.DB, [toRow(newer)], {
      via: 'queue',
      now: Date.now(),
      archived: true,
    });
    const rest: Item[] = [];
    let cursor = page1.next_cursor;
    while (cursor) {
      const page = await (await admin(`/admin/audit?limit=20&cursor=${cursor}`)).json<Page>();
      rest.push(...page.items);
      cursor = page.next_cursor;
    }
    const seen = [...page1.items, ...rest].map((i) => i.decision_id);
    expect(seen).toEqual([...events].sort(newestFirst).map((e) => e.decision_id));
    await env.DB.prepare('DELETE FROM audit_log WHERE decision_id = ?')
      .bind(newer.decision_id)
      .run();
  });

  it('shows a record with ISO times and typed fields', async () => {
    const e = events.find((x) => x.reasons.length === 2)!;
    const res = await admin(`/admin/audit/${e.decision_id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      decision_id: e.decision_id,
      v: 2,
      ts: e.ts,
      request_id: e.request_id,
      api_key_id: e.api_key_id,
      model: 'gpt-4',
      operation: 'classify',
      allowed: false,
      outcome: e.outcome,
      reasons: e.reasons,
      finding_counts: {},
      policy_version: 'pv-test',
      input_chars: 5,
      input_hmac: e.input_hmac,
      input_hmac_key_id: e.input_hmac_key_id,
      latency_ms: 1.25,
      metadata: null,
      via: 'queue',
      written_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
  });

  it('answers 404 problem for an unknown decision and 400 for a malformed id', async () => {
    const missing = await admin(`/admin/audit/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('Content-Type')).toBe('application/problem+json');
    const bad = await admin('/admin/audit/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ path: '/decision_id' }] });
  });

  it.each([
    ['limit=0', '/limit'],
    ['limit=201', '/limit'],
    ['cursor=bm9wZQ', '/cursor'],
    ['cursor=%%%', '/cursor'],
    ['reason=contains_cats', '/reason'],
    ['allowed=yes', '/allowed'],
    ['key_id=123', '/key_id'],
    ['since=yesterday', '/since'],
    ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', '/since'],
  ])('rejects %s with a validation problem naming the field', async (query, path) => {
    const res = await admin(`/admin/audit?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    const body = await res.json<{ type: string; errors: { path: string }[] }>();
    expect(body.type).toBe('urn:vakt:problem:validation-error');
    expect(body.errors.map((e) => e.path)).toContain(path);
  });

  it.each([
    ['/admin/audit?model=gpt-4', 'model'],
    ['/admin/audit?limit=5&operation=chat', 'operation'],
    ['/admin/audit/dead-letters?model=gpt-4', 'model'],
  ])('refuses the unknown query parameter in %s, naming it', async (url, name) => {
    // An ignored filter would silently return everything (`?model=gpt-4` used to).
    const res = await admin(url);
    expect(res.status).toBe(400);
    const body = await res.json<{ type: string; errors: { message: string }[] }>();
    expect(body.type).toBe('urn:vakt:problem:validation-error');
    expect(body.errors.map((e) => e.message).join(' ')).toContain(`"${name}"`);
  });

  it('requires the admin token', async () => {
    const res = await SELF.fetch(BASE + '/admin/audit');
    expect(res.status).toBe(401);
  });

  const planCases: [string, AuditFilter][] = [
    ['none', {}],
    ['key', { keyId: KEY_A }],
    ['allowed + since', { allowed: false, since: T0 }],
    ['reason', { reason: 'contains_secret' }],
    ['reason + key', { reason: 'contains_secret', keyId: KEY_A }],
  ];
  it.each(planCases)('uses an index for order and keyset (%s)', async (_n, filter) => {
    const { sql, params } = buildAuditQuery(filter, { limit: 50, after: { ts: T0, id: 'x' } });
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join('\n');
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(plan).not.toMatch(/^SCAN/m);
    expect(plan).toMatch(/USING (COVERING )?INDEX audit_log_|USING PRIMARY KEY/);
  });
});

describe('dead letters', () => {
  beforeEach(clearAudit);

  async function seedDeadLetters() {
    const poisoned = makeEvent();
    const exhausted = makeEvent({
      allowed: false,
      outcome: 'blocked',
      reasons: ['contains_secret'],
    });
    // 1. rejected by D1 on its final delivery
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message(poisoned, 4)]), {
      db: failingD1(
        env.DB,
        (sql, p) =>
          sql.includes('INSERT INTO audit_log ') && String(p[0]).includes(poisoned.decision_id),
      ),
      report: () => {},
    });
    // 2. moved to the DLQ by the platform
    await consumeDeadLetterBatch(createMessageBatch('vakt-audit-dlq', [message(exhausted)]), {
      db: env.DB,
      report: () => {},
    });
    // 3. a body this build cannot read
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message({ v: 9 }, 1, 'm-v9')]), {
      db: env.DB,
      report: () => {},
    });
    return { poisoned, exhausted };
  }

  it('lists pending dead letters with their error and attempts', async () => {
    const { poisoned, exhausted } = await seedDeadLetters();
    const res = await admin('/admin/audit/dead-letters');
    expect(res.status).toBe(200);
    const body = await res.json<{ items: Record<string, unknown>[]; next_cursor: null }>();
    expect(body.items).toHaveLength(3);
    const byId = new Map(body.items.map((d) => [d.id, d]));
    expect(byId.get(poisoned.decision_id)).toMatchObject({
      reason: 'write_failed',
      attempts: 4,
      queue: 'vakt-audit',
      payload: poisoned,
      replayed_at: null,
    });
    expect(byId.get(exhausted.decision_id)).toMatchObject({
      reason: 'retries_exhausted',
      attempts: 4,
    });
    expect(byId.get('message:m-v9')).toMatchObject({
      reason: 'invalid_event',
      error: 'unknown event version (9)',
      decision_id: null,
    });
  });

  it('replays into the log once, marks them replayed and keeps what still fails', async () => {
    const { poisoned, exhausted } = await seedDeadLetters();
    const res = await admin('/admin/audit/dead-letters/replay', { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      replayed: 2,
      inserted: 2,
      failed: [{ id: 'message:m-v9', error: 'unknown event version (9)' }],
      remaining: 1,
    });
    for (const e of [poisoned, exhausted]) {
      const rec = await (
        await admin(`/admin/audit/${e.decision_id}`)
      ).json<{ via: string; reasons: string[] }>();
      expect(rec).toMatchObject({ via: 'replay', reasons: e.reasons });
    }
    const reasonRows = await env.DB.prepare(
      'SELECT count(*) AS n FROM audit_log_reasons WHERE decision_id = ?',
    )
      .bind(exhausted.decision_id)
      .first<{ n: number }>();
    expect(reasonRows?.n).toBe(1);

    // Again: nothing left to replay, nothing duplicated.
    const again = await (
      await admin('/admin/audit/dead-letters/replay', { method: 'POST', body: '{}' })
    ).json();
    expect(again).toMatchObject({ replayed: 0, inserted: 0, remaining: 1 });
    const count = await env.DB.prepare('SELECT count(*) AS n FROM audit_log').first<{
      n: number;
    }>();
    expect(count?.n).toBe(2);

    const replayed = await (
      await admin('/admin/audit/dead-letters?status=replayed')
    ).json<{
      items: { id: string; replayed_at: string | null; replay_attempts: number }[];
    }>();
    expect(replayed.items.map((d) => d.id).sort()).toEqual(
      [poisoned.decision_id, exhausted.decision_id].sort(),
    );
    expect(replayed.items.every((d) => d.replayed_at && d.replay_attempts === 1)).toBe(true);
    const pending = await (
      await admin('/admin/audit/dead-letters')
    ).json<{
      items: { id: string; replay_error: string; replay_attempts: number }[];
    }>();
    expect(pending.items).toEqual([
      expect.objectContaining({
        id: 'message:m-v9',
        replay_attempts: 2,
        replay_error: 'unknown event version (9)',
      }),
    ]);
  });

  it('replays only the ids asked for, and an already-logged event without duplicating it', async () => {
    const { poisoned, exhausted } = await seedDeadLetters();
    // The event reached the log some other way meanwhile.
    await insertAuditRows(env.DB, [toRow(exhausted)], {
      via: 'queue',
      now: Date.now(),
      archived: true,
    });
    const res = await admin('/admin/audit/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ ids: [exhausted.decision_id] }),
    });
    expect(await res.json()).toEqual({ replayed: 1, inserted: 0, failed: [], remaining: 2 });
    const row = await env.DB.prepare('SELECT via FROM audit_log WHERE decision_id = ?')
      .bind(exhausted.decision_id)
      .first();
    expect(row).toEqual({ via: 'queue' });
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM audit_log WHERE decision_id = ?')
        .bind(poisoned.decision_id)
        .first(),
    ).toEqual({ n: 0 });
  });

  it.each([
    ['{"ids": []}', '/ids'],
    ['{"limit": 0}', '/limit'],
    ['{"what": 1}', '/'],
  ])('rejects the replay body %s', async (body, path) => {
    const res = await admin('/admin/audit/dead-letters/replay', { method: 'POST', body });
    expect(res.status).toBe(400);
    const problem = await res.json<{ errors: { path: string }[] }>();
    expect(problem.errors.map((e) => e.path)).toContain(path);
  });

  it('paginates dead letters', async () => {
    await seedDeadLetters();
    const first = await (
      await admin('/admin/audit/dead-letters?limit=2')
    ).json<{
      items: { id: string }[];
      next_cursor: string;
    }>();
    expect(first.items).toHaveLength(2);
    const second = await (
      await admin(`/admin/audit/dead-letters?limit=2&cursor=${first.next_cursor}`)
    ).json<{ items: { id: string }[]; next_cursor: string | null }>();
    expect(second.items).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((d) => d.id)).size).toBe(3);
  });
});

describe('OpenAPI', () => {
  it('documents the audit routes with problem responses', async () => {
    const doc = await (
      await SELF.fetch(BASE + '/openapi.json')
    ).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(Object.keys(doc.paths['/admin/audit']!)).toEqual(['get']);
    expect(Object.keys(doc.paths['/admin/audit/{decision_id}']!)).toEqual(['get']);
    expect(Object.keys(doc.paths['/admin/audit/dead-letters']!)).toEqual(['get']);
    expect(Object.keys(doc.paths['/admin/audit/dead-letters/replay']!)).toEqual(['post']);
    const list = doc.paths['/admin/audit']!.get!;
    expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(JSON.stringify(list.responses['400'])).toContain('application/problem+json');
  });
});
