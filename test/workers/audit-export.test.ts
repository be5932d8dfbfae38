/**
 * The R2 archive and its export: the consumer writes each batch as gzip NDJSON under hive-style
 * keys before it acks; GET /admin/audit/export streams the range deduplicated and in time order;
 * GET /admin/audit points older queries at it.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { minTsOfKey, partitionOf, R2AuditArchive } from '../../src/audit/archive';
import type { AuditEvent, AuditMessageBody } from '../../src/audit/event';
import worker from '../../src/index';
import { admin } from './helpers';
import { clearAudit, makeEvent, message } from './audit-helpers';

const H = 3_600_000;
const T0 = Date.UTC(2026, 4, 10, 8, 0, 0);

async function keys(): Promise<string[]> {
  const { objects } = await env.AUDIT_ARCHIVE.list({ prefix: 'audit/v1/' });
  return objects.map((o) => o.key);
}

async function clearArchive(): Promise<void> {
  const k = await keys();
  if (k.length) await env.AUDIT_ARCHIVE.delete(k);
}

const at = (ms: number, over: Partial<AuditEvent> = {}) =>
  makeEvent({ ts: new Date(ms).toISOString(), ...over });

async function exportRange(since: number, until: number): Promise<AuditEvent[]> {
  const res = await admin(
    `/admin/audit/export?since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}`,
  );
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('application/x-ndjson');
  const text = await res.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

describe('audit archive', () => {
  beforeEach(async () => {
    await clearAudit();
    await clearArchive();
  });

  it('the consumer writes a batch as one gzip NDJSON object per hour, before acking', async () => {
    const events = [at(T0 + 5_000), at(T0 + 1_000), at(T0 + H + 10)];
    const batch = createMessageBatch<AuditMessageBody>('vakt-audit', [
      message({ pack: 1, events: events.slice(0, 2) }),
      message(events[2]),
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(2);
    const k = (await keys()).sort();
    expect(k).toHaveLength(2);
    expect(k[0]!.startsWith(partitionOf(T0))).toBe(true);
    expect(k[0]).toMatch(/^audit\/v1\/date=2026-05-10\/hour=08\/\d{13}-[0-9a-f]{32}\.ndjson\.gz$/);
    expect(k[1]).toMatch(/^audit\/v1\/date=2026-05-10\/hour=09\//);
    expect(minTsOfKey(k[0]!)).toBe(T0 + 1_000);
    const obj = await env.AUDIT_ARCHIVE.get(k[0]!);
    const lines = (
      await new Response(obj!.body.pipeThrough(new DecompressionStream('gzip'))).text()
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
    // Sorted by time, the full (scrubbed) events.
    expect(lines.map((e) => e.decision_id)).toEqual([
      events[1]!.decision_id,
      events[0]!.decision_id,
    ]);
    expect(lines[0]).toEqual(events[1]);
    const { results } = await env.DB.prepare('SELECT DISTINCT archived FROM audit_log').all();
    expect(results).toEqual([{ archived: 1 }]);
  });

  it('writes the same batch again under the same key (idempotent)', async () => {
    const a = new R2AuditArchive(env.AUDIT_ARCHIVE);
    const events = [at(T0 + 1), at(T0 + 2), at(T0 + 3)];
    await a.put(events, 'queue');
    const first = await keys();
    await a.put([...events].reverse(), 'queue');
    expect(await keys()).toEqual(first);
  });
});

describe('GET /admin/audit/export', () => {
  beforeEach(clearArchive);

  it('streams every event in the range once, in time order, across objects and hours', async () => {
    const a = new R2AuditArchive(env.AUDIT_ARCHIVE);
    const events = Array.from({ length: 300 }, (_, i) => at(T0 + i * 37_000)); // ≈ 3 hours
    // Overlapping batches, and redeliveries that landed in other objects.
    await a.put(
      events.filter((_, i) => i % 3 === 0),
      'queue',
    );
    await a.put(
      events.filter((_, i) => i % 3 !== 0),
      'queue',
    );
    await a.put(events.slice(50, 70), 'queue');
    await a.put(events.slice(60, 61), 'replay');
    const since = T0 + 20 * 37_000;
    const until = T0 + 250 * 37_000;
    const got = await exportRange(since, until);
    const want = events.slice(20, 250);
    expect(got.map((e) => e.decision_id)).toEqual(want.map((e) => e.decision_id));
    expect(got[0]).toEqual(want[0]);
  });

  it('breaks ties in time by decision_id', async () => {
    const a = new R2AuditArchive(env.AUDIT_ARCHIVE);
    const same = Array.from({ length: 20 }, () => at(T0 + 500));
    await a.put(same.slice(0, 10), 'queue');
    await a.put(same.slice(5), 'queue');
    const got = await exportRange(T0, T0 + 1000);
    expect(got.map((e) => e.decision_id)).toEqual(same.map((e) => e.decision_id).sort());
  });

  it('refuses a range over 7 days, and since ≥ until, with a problem naming the field', async () => {
    const long = await admin(
      `/admin/audit/export?since=2026-01-01T00:00:00Z&until=2026-01-09T00:00:00Z`,
    );
    expect(long.status).toBe(400);
    expect(long.headers.get('Content-Type')).toBe('application/problem+json');
    const p = await long.json<{ errors: { path: string; message: string }[] }>();
    expect(p.errors).toContainEqual({ path: '/until', message: expect.stringMatching(/7 days/) });
    const backwards = await admin(
      `/admin/audit/export?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
    );
    expect(backwards.status).toBe(400);
    expect((await admin('/admin/audit/export')).status).toBe(400);
  });

  it('needs the admin token', async () => {
    const { SELF } = await import('cloudflare:test');
    const res = await SELF.fetch('https://vakt.test/admin/audit/export?since=2026-01-01T00:00:00Z');
    expect(res.status).toBe(401);
  });
});

describe('GET /admin/audit over the hot window', () => {
  it('points a query reaching before AUDIT_HOT_DAYS at the export', async () => {
    const old = new Date(Date.now() - 45 * 86_400_000).toISOString();
    const res = await admin(`/admin/audit?since=${old}`);
    expect(res.status).toBe(200);
    const body = await res.json<{
      items: unknown[];
      archive?: { export: string; before: string };
    }>();
    expect(body.archive?.export).toMatch(/^\/admin\/audit\/export\?since=.*&until=/);
    expect(Date.parse(body.archive!.before)).toBeGreaterThan(Date.now() - 31 * 86_400_000);
    const recent = new Date(Date.now() - 86_400_000).toISOString();
    const inside = await (await admin(`/admin/audit?since=${recent}`)).json<object>();
    expect(inside).not.toHaveProperty('archive');
  });

  it('says where to look in a 404 for a decision it does not hold', async () => {
    const res = await admin(`/admin/audit/${crypto.randomUUID()}`);
    expect(res.status).toBe(404);
    expect((await res.json<{ detail: string }>()).detail).toContain('/admin/audit/export');
  });
});
