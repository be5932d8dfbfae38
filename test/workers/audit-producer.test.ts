/**
 * The producer: group commit packs concurrent decisions into few queue messages; a failed or
 * throttled sendBatch backs off and retries, then the events are stored directly (archive + D1);
 * only events nothing accepts are dropped (counted and reported); a leader that dies mid-flush
 * leaves its batch to the next one. Failing bindings come in through the producer's parameters
 * or the `env` handed to the Worker — nothing global is patched.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { R2AuditArchive, type AuditArchive } from '../../src/audit/archive';
import { consumeAuditBatch } from '../../src/audit/consumer';
import type { AuditEvent, AuditMessageBody, AuditPack } from '../../src/audit/event';
import {
  AuditProducer,
  LEADER_STALE_MS,
  MAX_EVENTS_PER_MESSAGE,
  MAX_MESSAGE_BYTES,
  MAX_SEND_BYTES,
  pack,
  SEND_BACKOFF_MS,
  type ProducerDeps,
} from '../../src/audit/producer';
import { metrics } from '../../src/metrics/recorder';
import worker from '../../src/index';
import { BASE, createKey } from './helpers';
import { auditIds, clearAudit, failingD1, makeEvent, message } from './audit-helpers';

function counters(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of metrics.drain())
    if (d.kind === 'counter') out[d.name] = (out[d.name] ?? 0) + d.value;
  return out;
}

/** A queue whose first `failures` sendBatch calls throw `error`; records what got through. */
function flakyQueue(failures: number, error = 'Too Many Requests') {
  const sends: AuditPack[][] = [];
  let calls = 0;
  const queue: ProducerDeps['queue'] = {
    async sendBatch(msgs) {
      calls++;
      if (calls <= failures) throw new Error(error);
      sends.push([...msgs].map((m) => m.body as AuditPack));
    },
  };
  return { queue, sends, calls: () => calls, events: () => sends.flat().flatMap((p) => p.events) };
}

const failingArchive: AuditArchive = {
  put: () => Promise.reject(new Error('R2 put failed (injected)')),
};

interface Report {
  err: unknown;
  tags: Record<string, string | undefined>;
  extra: Record<string, unknown> | undefined;
}

function deps(over: Partial<ProducerDeps> = {}) {
  const reports: Report[] = [];
  const sleeps: number[] = [];
  const d: ProducerDeps = {
    queue: flakyQueue(0).queue,
    db: env.DB,
    archive: new R2AuditArchive(env.AUDIT_ARCHIVE),
    report: (err, tags, options) => void reports.push({ err, tags, extra: options?.extra }),
    sleep: async (ms) => void sleeps.push(ms),
    ...over,
  };
  return { d, reports, sleeps };
}

/** Adds events from separate "requests" at once, then waits for every one of them. */
async function addAll(p: AuditProducer, d: ProducerDeps, events: AuditEvent[]): Promise<void> {
  const ctxs = events.map(() => createExecutionContext());
  // As concurrent requests do: each announces its event before it is hashed and added.
  for (const _ of events) p.expect();
  events.forEach((e, i) => void p.add(e, d, ctxs[i]!));
  await Promise.all(ctxs.map((c) => waitOnExecutionContext(c)));
  expect(p.idle).toBe(true);
}

async function archivedIds(): Promise<string[]> {
  const ids: string[] = [];
  const { objects } = await env.AUDIT_ARCHIVE.list({ prefix: 'audit/v1/' });
  for (const o of objects) {
    const body = await env.AUDIT_ARCHIVE.get(o.key);
    const text = await new Response(body!.body.pipeThrough(new DecompressionStream('gzip'))).text();
    for (const line of text.trim().split('\n'))
      ids.push((JSON.parse(line) as AuditEvent).decision_id);
  }
  return ids.sort();
}

async function clearArchive(): Promise<void> {
  const { objects } = await env.AUDIT_ARCHIVE.list({ prefix: 'audit/v1/' });
  if (objects.length) await env.AUDIT_ARCHIVE.delete(objects.map((o) => o.key));
}

describe('audit producer', () => {
  beforeEach(async () => {
    await clearAudit();
    await clearArchive();
    metrics.drain();
  });

  it('packs 250 concurrent decisions into a few messages of at most 100 events', async () => {
    const q = flakyQueue(0);
    const { d, reports } = deps({ queue: q.queue });
    const events = Array.from({ length: 250 }, () => makeEvent());
    await addAll(new AuditProducer(), d, events);
    expect(q.calls()).toBe(1);
    const messages = q.sends.flat();
    expect(messages.length).toBeLessThanOrEqual(5);
    for (const m of messages) {
      expect(m.pack).toBe(1);
      expect(m.events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_MESSAGE);
      expect(JSON.stringify(m).length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
    expect(
      q
        .events()
        .map((e) => e.decision_id)
        .sort(),
    ).toEqual(events.map((e) => e.decision_id).sort());
    expect(reports).toEqual([]);
    expect(counters()).toEqual({
      logs_queued_total: 250,
      logs_queue_messages_total: messages.length,
    });
  });

  it('sends a lone decision at once (no linger when nothing else is on its way)', async () => {
    const q = flakyQueue(0);
    const { d } = deps({ queue: q.queue });
    const p = new AuditProducer();
    const ctx = createExecutionContext();
    const t = performance.now();
    void p.add(makeEvent(), d, ctx);
    expect(q.calls()).toBe(1); // sent from within add(): no timer in between
    await waitOnExecutionContext(ctx);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('keeps every message under 128 KB and every sendBatch under 256 KB / 100 messages', () => {
    const big = makeEvent({
      metadata: Object.fromEntries(
        Array.from({ length: 60 }, (_, i) => [`k${i}`, 'x'.repeat(1000)]),
      ),
    });
    const items = [
      ...Array.from({ length: 30 }, () => ({ event: big, bytes: JSON.stringify(big).length })),
      ...Array.from({ length: 12_000 }, () => {
        const e = makeEvent();
        return { event: e, bytes: JSON.stringify(e).length };
      }),
    ];
    const batches = pack(items);
    let total = 0;
    for (const b of batches) {
      expect(b.messages.length).toBeLessThanOrEqual(100);
      const bodies = b.messages.map((m) => JSON.stringify({ pack: 1, events: m }));
      for (const body of bodies) expect(body.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(bodies.reduce((n, s) => n + s.length, 0)).toBeLessThanOrEqual(MAX_SEND_BYTES);
      total += b.messages.reduce((n, m) => n + m.length, 0);
    }
    expect(total).toBe(items.length);
  });

  it('backs off and retries a throttled sendBatch ("Too Many Requests")', async () => {
    const q = flakyQueue(2);
    const { d, sleeps, reports } = deps({ queue: q.queue });
    const events = Array.from({ length: 20 }, () => makeEvent());
    await addAll(new AuditProducer(), d, events);
    expect(q.calls()).toBe(3);
    expect(sleeps).toHaveLength(2);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(SEND_BACKOFF_MS[i]! / 2);
      expect(ms).toBeLessThanOrEqual(SEND_BACKOFF_MS[i]! * 1.5);
    });
    expect(q.events()).toHaveLength(20);
    expect(await auditIds()).toEqual([]);
    expect(reports).toEqual([]);
    expect(counters()).toMatchObject({ logs_queued_total: 20 });
  });

  it('stores the events directly (archive and D1) when the queue keeps refusing them', async () => {
    const q = flakyQueue(Infinity);
    const { d, reports } = deps({ queue: q.queue });
    const events = Array.from({ length: 30 }, () => makeEvent());
    await addAll(new AuditProducer(), d, events);
    expect(q.calls()).toBe(SEND_BACKOFF_MS.length + 1);
    const ids = events.map((e) => e.decision_id).sort();
    expect(await auditIds()).toEqual(ids);
    expect(await archivedIds()).toEqual(ids);
    const { results } = await env.DB.prepare('SELECT DISTINCT via, archived FROM audit_log').all();
    expect(results).toEqual([{ via: 'fallback', archived: 1 }]);
    expect(reports).toEqual([]);
    expect(counters()).toEqual({ logs_queued_total: 30, logs_written_total: 30 });
  });

  it('writes D1 unarchived when the queue and R2 both fail (the cron archives it later)', async () => {
    const { d, reports } = deps({ queue: flakyQueue(Infinity).queue, archive: failingArchive });
    const events = Array.from({ length: 5 }, () => makeEvent());
    await addAll(new AuditProducer(), d, events);
    expect(await auditIds()).toEqual(events.map((e) => e.decision_id).sort());
    const { results } = await env.DB.prepare('SELECT DISTINCT archived FROM audit_log').all();
    expect(results).toEqual([{ archived: 0 }]);
    expect(reports.map((r) => r.tags.stage)).toEqual(['archive']);
    expect(counters()).toEqual({ logs_queued_total: 5, logs_written_total: 5 });
  });

  it('drops, counts and reports (once, with every decision id) only what nothing accepts', async () => {
    const { d, reports } = deps({
      queue: flakyQueue(Infinity).queue,
      archive: failingArchive,
      db: failingD1(env.DB, () => true),
    });
    const events = Array.from({ length: 7 }, () => makeEvent());
    await addAll(new AuditProducer(), d, events);
    const lost = reports.filter((r) => (r.err as Error).name === 'AuditEventLostError');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.tags).toMatchObject({ component: 'audit_producer', events: '7' });
    expect((lost[0]!.extra!.decision_ids as string[]).sort()).toEqual(
      events.map((e) => e.decision_id).sort(),
    );
    expect(counters()).toEqual({ logs_queued_total: 7, logs_dropped_total: 7 });
  });

  it('does not duplicate an event whose failed send was delivered after all', async () => {
    const sent: AuditMessageBody[] = [];
    const { d } = deps({
      queue: {
        async sendBatch(msgs) {
          for (const m of msgs) sent.push(m.body);
          throw new Error('Too Many Requests');
        },
      },
    });
    const e = makeEvent();
    await addAll(new AuditProducer(), d, [e]);
    const summary = await consumeAuditBatch(
      createMessageBatch(
        'vakt-audit',
        sent.map((b) => message(b)),
      ),
      { db: env.DB, report: () => {} },
    );
    expect(sent).toHaveLength(SEND_BACKOFF_MS.length + 1);
    expect(summary.written).toBe(0);
    expect(await auditIds()).toEqual([e.decision_id]);
    // queued 1, written 1: nothing in flight, nothing double-counted.
    expect(counters()).toEqual({ logs_queued_total: 1, logs_written_total: 1 });
  });

  it('sends the batch of a leader that died mid-flush with the next leader', async () => {
    const delivered: AuditEvent[] = [];
    let calls = 0;
    const { d } = deps({
      queue: {
        sendBatch(msgs) {
          calls++;
          // The first leader's request is cancelled while it awaits the queue: it never returns.
          if (calls === 1) return new Promise<void>(() => {});
          for (const m of msgs) delivered.push(...(m.body as AuditPack).events);
          return Promise.resolve();
        },
      },
    });
    const p = new AuditProducer();
    const first = makeEvent();
    p.expect();
    void p.add(first, d, createExecutionContext());
    // Let the first leader linger, drain and hang in sendBatch.
    await scheduler.wait(100);
    expect(calls).toBe(1);
    // A later request finds the leader silent past LEADER_STALE_MS and takes over.
    const second = makeEvent();
    const ctx = createExecutionContext();
    p.expect();
    void p.add(second, d, ctx, Date.now() + LEADER_STALE_MS + 1);
    await waitOnExecutionContext(ctx);
    expect(delivered.map((e) => e.decision_id).sort()).toEqual(
      [first.decision_id, second.decision_id].sort(),
    );
    expect(counters()).toMatchObject({ logs_queued_total: 2 });
  });
});

describe('POST /v1/check with a failing queue', { timeout: 30_000 }, () => {
  beforeEach(clearAudit);

  it('loses no decision: every decision_id is in D1 once the response is done', async () => {
    const { key } = await createKey({
      name: 'fallback',
      policy: { rate_limit: { limit: 3, window_s: 3600 } },
    });
    const brokenEnv = {
      ...env,
      AUDIT_QUEUE: flakyQueue(Infinity).queue as Queue<AuditMessageBody>,
    };
    const ids: string[] = [];
    const statuses: number[] = [];
    for (const input of ['hello', 'fnr 01010012356', 'again', 'over quota']) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input }),
        }),
        brokenEnv,
        ctx,
      );
      statuses.push(res.status);
      ids.push((await res.json<{ decision_id: string }>()).decision_id);
      await waitOnExecutionContext(ctx);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await auditIds()).toEqual([...ids].sort());
    const { results } = await env.DB.prepare('SELECT DISTINCT via FROM audit_log').all();
    expect(results).toEqual([{ via: 'fallback' }]);
  });
});
