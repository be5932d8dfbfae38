/**
 * The producer: send() is retried briefly, then the event is written to D1 directly; only an
 * event neither accepts is dropped (counted and reported). Failing bindings come in through the
 * producer's parameters, or through the `env` handed to the Worker — nothing global is patched.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event';
import { consumeAuditBatch } from '../../src/audit/consumer';
import { deliverAudit, type ProducerDeps } from '../../src/audit/producer';
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

/** A queue binding whose first `failures` sends throw (Infinity: every send). */
function flakyQueue(failures: number, opts: { deliverAnyway?: boolean } = {}) {
  const sent: AuditEvent[] = [];
  let calls = 0;
  const queue: ProducerDeps['queue'] = {
    async send(event: AuditEvent) {
      calls++;
      if (calls <= failures) {
        if (opts.deliverAnyway) sent.push(event); // the send went through but the call failed
        throw new Error('Queue send failed: injected');
      }
      sent.push(event);
    },
  };
  return { queue, sent, calls: () => calls };
}

describe('deliverAudit', () => {
  beforeEach(async () => {
    await clearAudit();
    metrics.drain();
  });

  it('redacts client-influenced strings before the event enters the queue', async () => {
    const q = flakyQueue(0);
    const outcome = await deliverAudit(
      { queue: q.queue, db: env.DB, report: () => undefined },
      makeEvent({
        model: 'llm 01010012356',
        operation: 'ola@example.no',
        metadata: { contact: 'kari@example.no', n: 3 },
      }),
    );
    expect(outcome).toBe('queued');
    const sent = JSON.stringify(q.sent);
    expect(sent).not.toContain('01010012356');
    expect(sent).not.toContain('example.no');
    expect(q.sent[0]?.metadata).toEqual({ contact: '[EMAIL]', n: 3 });
  });

  it('keeps a redacted identifier within the event schema, so the event stays storable', async () => {
    const q = flakyQueue(0);
    // 128 characters (accepted by /v1/check) that redaction lengthens past 256.
    const model = '923 609 016;'.repeat(10) + 'gpt-4abc';
    expect(model).toHaveLength(128);
    await deliverAudit(
      { queue: q.queue, db: env.DB, report: () => undefined },
      makeEvent({ model }),
    );
    const sent = q.sent[0]!;
    expect(sent.model).toContain('[NO_ORGANISASJONSNUMMER]');
    expect(sent.model.length).toBeLessThanOrEqual(256);
    const reports: unknown[] = [];
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message(sent)]), {
      db: env.DB,
      report: (e) => void reports.push(e),
    });
    expect(reports).toEqual([]);
    expect(await auditIds()).toEqual([sent.decision_id]);
  });

  it('retries a failed send briefly before giving up on the queue', async () => {
    const q = flakyQueue(2);
    const sleeps: number[] = [];
    const reports: unknown[] = [];
    const outcome = await deliverAudit(
      {
        queue: q.queue,
        db: env.DB,
        report: (e) => void reports.push(e),
        sleep: async (ms) => void sleeps.push(ms),
      },
      makeEvent(),
    );
    expect(outcome).toBe('queued');
    expect(q.calls()).toBe(3);
    expect(q.sent).toHaveLength(1);
    expect(sleeps).toEqual([25, 100]);
    expect(await auditIds()).toEqual([]);
    expect(reports).toEqual([]);
    expect(counters()).toEqual({ logs_queued_total: 1 });
  });

  it('writes the event to D1 when the queue keeps refusing it', async () => {
    const q = flakyQueue(Infinity);
    const e = makeEvent();
    const reports: unknown[] = [];
    const outcome = await deliverAudit(
      {
        queue: q.queue,
        db: env.DB,
        report: (err) => void reports.push(err),
        sleep: async () => {},
      },
      e,
    );
    expect(outcome).toBe('fallback');
    expect(q.calls()).toBe(3);
    const row = await env.DB.prepare('SELECT decision_id, via FROM audit_log').first();
    expect(row).toEqual({ decision_id: e.decision_id, via: 'fallback' });
    expect(reports).toEqual([]);
    expect(counters()).toEqual({ logs_queued_total: 1, logs_written_total: 1 });
  });

  it('drops, counts and reports only an event neither the queue nor D1 accepts', async () => {
    const e = makeEvent();
    const reports: { err: unknown; tags: Record<string, string | undefined> }[] = [];
    const outcome = await deliverAudit(
      {
        queue: flakyQueue(Infinity).queue,
        db: failingD1(env.DB, () => true),
        report: (err, tags) => void reports.push({ err, tags }),
        sleep: async () => {},
      },
      e,
    );
    expect(outcome).toBe('dropped');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.err).toMatchObject({ name: 'AuditEventLostError' });
    expect(reports[0]!.tags).toMatchObject({
      component: 'audit_producer',
      decision_id: e.decision_id,
    });
    expect(counters()).toEqual({ logs_queued_total: 1, logs_dropped_total: 1 });
  });

  it('does not duplicate an event whose failed send was delivered after all', async () => {
    const q = flakyQueue(Infinity, { deliverAnyway: true });
    const e = makeEvent();
    await deliverAudit({ queue: q.queue, db: env.DB, report: () => {}, sleep: async () => {} }, e);
    // The consumer later receives the copies that did get through.
    const summary = await consumeAuditBatch(
      createMessageBatch(
        'vakt-audit',
        q.sent.map((ev) => message(ev)),
      ),
      { db: env.DB, report: () => {} },
    );
    expect(q.sent).toHaveLength(3);
    expect(summary.written).toBe(0);
    expect(await auditIds()).toEqual([e.decision_id]);
    // queued 1, written 1: nothing in flight, nothing double-counted.
    expect(counters()).toEqual({ logs_queued_total: 1, logs_written_total: 1 });
  });
});

describe('POST /v1/check with a failing queue', () => {
  beforeEach(clearAudit);

  it('loses no decision: every decision_id is in D1 once the response is done', async () => {
    const { key } = await createKey({
      name: 'fallback',
      policy: { rate_limit: { limit: 3, window_s: 3600 } },
    });
    const brokenEnv = { ...env, AUDIT_QUEUE: flakyQueue(Infinity).queue as Queue<AuditEvent> };
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
