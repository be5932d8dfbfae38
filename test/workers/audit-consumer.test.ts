/**
 * The vakt-audit and vakt-audit-dlq consumers, driven with createMessageBatch. D1 failures are
 * injected by handing consumeAuditBatch a wrapped database (its `db` parameter); the handler the
 * runtime calls (`worker.queue`) is exercised with the real bindings.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event';
import { consumeAuditBatch, consumeDeadLetterBatch } from '../../src/audit/consumer';
import { backoffSeconds } from '../../src/audit/limits';
import { metrics } from '../../src/metrics/recorder';
import worker from '../../src/index';
import {
  auditIds,
  clearAudit,
  countRows,
  failingD1,
  makeEvent,
  message,
  type FailWhen,
} from './audit-helpers';

interface Report {
  err: unknown;
  tags: Record<string, string | undefined>;
}

function reporter() {
  const reports: Report[] = [];
  return {
    reports,
    report: (err: unknown, tags: Report['tags']) => void reports.push({ err, tags }),
  };
}

/** Counter deltas recorded since the last call (the recorder is per isolate). */
function counters(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of metrics.drain())
    if (d.kind === 'counter') out[d.name] = (out[d.name] ?? 0) + d.value;
  return out;
}

/** Fails every audit_log insert whose rows include `decisionId` — a poison message. */
const poison =
  (decisionId: string): FailWhen =>
  (sql, params) =>
    sql.includes('INSERT INTO audit_log ') && String(params[0]).includes(decisionId);

/** D1 is down for everything. */
const down: FailWhen = () => true;

async function deadLetters() {
  const { results } = await env.DB.prepare(
    'SELECT id, decision_id, queue, reason, error, attempts, payload FROM audit_dead_letters ORDER BY id',
  ).all<{
    id: string;
    decision_id: string | null;
    queue: string;
    reason: string;
    error: string;
    attempts: number;
    payload: string | null;
  }>();
  return results;
}

describe('vakt-audit consumer', () => {
  beforeEach(async () => {
    await clearAudit();
    metrics.drain();
  });

  it('inserts a batch with a duplicate delivery once', async () => {
    const a = makeEvent();
    const b = makeEvent({
      allowed: false,
      outcome: 'blocked',
      reasons: ['contains_personal_data'],
    });
    const batch = createMessageBatch('vakt-audit', [message(a), message(b), message(a)]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<AuditEvent>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    expect(await auditIds()).toEqual([a.decision_id, b.decision_id].sort());
    expect(await countRows('audit_log_reasons')).toBe(1);
  });

  it('counts only new rows in logs_written_total across redeliveries', async () => {
    const a = makeEvent();
    const b = makeEvent();
    const first = await consumeAuditBatch(
      createMessageBatch('vakt-audit', [message(a), message(a), message(b)]),
      { db: env.DB, report: reporter().report },
    );
    expect(first.written).toBe(2);
    const again = await consumeAuditBatch(
      createMessageBatch('vakt-audit', [message(b, 2), message(a, 2)]),
      { db: env.DB, report: reporter().report },
    );
    expect(again.written).toBe(0);
    expect(again.outcomes.map((o) => o.action)).toEqual(['written', 'written']);
    expect(counters()).toEqual({ logs_written_total: 2 });
    expect(await auditIds()).toHaveLength(2);
  });

  it('stores every field of the event, with times as epoch ms', async () => {
    const e = makeEvent({
      allowed: false,
      outcome: 'blocked',
      reasons: ['contains_personal_data', 'contains_secret'],
      finding_counts: { no_fodselsnummer: 2, secret_jwt: 1 },
      metadata: { user_ref: 'abc', n: 3, ok: true },
      direction: 'output',
      input_decision_id: '22222222-2222-4222-8222-222222222222',
      skipped_parts: 2,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      usage: { counted_tokens: 9, tokenizer: 'o200k_base', output_tokens: 12, charged: true },
    });
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message(e)]), {
      db: env.DB,
      report: reporter().report,
      now: () => 1_800_000_000_000,
    });
    const row = await env.DB.prepare('SELECT * FROM audit_log WHERE decision_id = ?')
      .bind(e.decision_id)
      .first();
    expect(row).toEqual({
      decision_id: e.decision_id,
      v: 2,
      ts: Date.parse(e.ts),
      request_id: e.request_id,
      api_key_id: e.api_key_id,
      model: 'gpt-4',
      operation: 'classify',
      allowed: 0,
      outcome: 'blocked',
      reasons: '["contains_personal_data","contains_secret"]',
      finding_counts: '{"no_fodselsnummer":2,"secret_jwt":1}',
      policy_version: 'pv-test',
      input_chars: 5,
      input_hmac: 'a'.repeat(64),
      input_hmac_key_id: 'b'.repeat(16),
      latency_ms: 1.25,
      metadata: '{"user_ref":"abc","n":3,"ok":true}',
      via: 'queue',
      written_at: 1_800_000_000_000,
      archived: 0,
      direction: 'output',
      input_decision_id: '22222222-2222-4222-8222-222222222222',
      skipped_parts: 2,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      kind: null,
      usage: '{"counted_tokens":9,"tokenizer":"o200k_base","output_tokens":12,"charged":true}',
    });
    const { results } = await env.DB.prepare(
      'SELECT reason FROM audit_log_reasons WHERE decision_id = ? ORDER BY reason',
    )
      .bind(e.decision_id)
      .all<{ reason: string }>();
    expect(results.map((r) => r.reason)).toEqual(['contains_personal_data', 'contains_secret']);
  });

  it('retries a failing message with backoff without blocking the others of its batch', async () => {
    const bad = makeEvent();
    const good = [makeEvent(), makeEvent(), makeEvent(), makeEvent()];
    const db = failingD1(env.DB, poison(bad.decision_id));
    const { reports, report } = reporter();
    const msgs = [
      message(good[0]),
      message(good[1]),
      message(bad),
      message(good[2]),
      message(good[3]),
    ];
    const batch = createMessageBatch('vakt-audit', msgs);
    const ctx = createExecutionContext();
    const summary = await consumeAuditBatch(batch, { db, report });
    const result = await getQueueResult(batch, ctx);

    expect(summary.written).toBe(4);
    expect(summary.outcomes.filter((o) => o.action === 'retry')).toEqual([
      { id: msgs[2]!.id, action: 'retry', delaySeconds: 2 },
    ]);
    expect(result.explicitAcks.sort()).toEqual(
      msgs
        .filter((m) => m.body !== bad)
        .map((m) => m.id)
        .sort(),
    );
    expect(result.retryMessages).toEqual([{ msgId: msgs[2]!.id }]);
    expect(await auditIds()).toEqual(good.map((g) => g.decision_id).sort());
    expect(reports).toHaveLength(1);
    expect(reports[0]!.tags).toMatchObject({
      component: 'audit_consumer',
      decision_id: bad.decision_id,
      attempts: '1',
    });
    expect(await countRows('audit_dead_letters')).toBe(0);
  });

  it('backs off exponentially and dead-letters on the final delivery with the real error', async () => {
    const bad = makeEvent();
    const db = failingD1(env.DB, poison(bad.decision_id));
    const delays: unknown[] = [];
    for (const attempts of [1, 2, 3]) {
      const batch = createMessageBatch('vakt-audit', [message(bad, attempts, 'm-bad')]);
      const summary = await consumeAuditBatch(batch, { db, report: reporter().report });
      const result = await getQueueResult(batch, createExecutionContext());
      // The test harness records which messages were retried, not the delay passed to retry().
      expect(result.retryMessages).toEqual([{ msgId: 'm-bad' }]);
      delays.push(...summary.outcomes.map((o) => (o.action === 'retry' ? o.delaySeconds : o)));
    }
    expect(delays).toEqual([2, 4, 8]);
    expect(delays).toEqual([1, 2, 3].map(backoffSeconds));

    // Delivery 4 = max_retries (3) + 1: kept as a dead letter and acked, while another
    // message in the same batch is written.
    const other = makeEvent();
    const { reports, report } = reporter();
    const batch = createMessageBatch('vakt-audit', [
      message(bad, 4, 'm-bad'),
      message(other, 1, 'm-other'),
    ]);
    const summary = await consumeAuditBatch(batch, { db, report });
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks.sort()).toEqual(['m-bad', 'm-other']);
    expect(result.retryMessages).toEqual([]);
    expect(summary).toMatchObject({ written: 1, dropped: 1 });
    expect(await auditIds()).toEqual([other.decision_id]);

    const [dl] = await deadLetters();
    expect(dl).toMatchObject({
      id: bad.decision_id,
      decision_id: bad.decision_id,
      queue: 'vakt-audit',
      reason: 'write_failed',
      attempts: 4,
    });
    expect(dl!.error).toMatch(/^Error: D1_ERROR: injected failure/);
    expect(JSON.parse(dl!.payload!)).toEqual(bad);
    expect(counters()).toEqual({ logs_written_total: 1, logs_dropped_total: 1 });
    expect(reports.map((r) => r.tags.component)).toEqual(['audit_consumer', 'audit_consumer']);
    expect(reports[1]!.err).toMatchObject({ name: 'AuditDeadLetterError' });
  });

  it('hands a message to the platform dead-letter queue when D1 is down on its final delivery', async () => {
    const e = makeEvent();
    const batch = createMessageBatch('vakt-audit', [message(e, 4, 'm1')]);
    const summary = await consumeAuditBatch(batch, {
      db: failingD1(env.DB, down),
      report: reporter().report,
    });
    const result = await getQueueResult(batch, createExecutionContext());
    // Retrying the final delivery is what moves it to vakt-audit-dlq.
    expect(result.retryMessages).toEqual([{ msgId: 'm1' }]);
    expect(result.explicitAcks).toEqual([]);
    expect(summary.outcomes).toEqual([{ id: 'm1', action: 'retry', delaySeconds: 16 }]);
    expect(summary).toMatchObject({ written: 0, dropped: 0 });
    expect(counters()).toEqual({});
  });

  it.each([
    ['an unknown version', { ...makeEvent(), v: 3 }, /unknown event version \(3\)/],
    ['a missing field', { ...makeEvent(), policy_version: undefined }, /policy_version/],
    ['a hash without its key id', { ...makeEvent(), input_hmac_key_id: undefined }, /key_id/],
    ['allowed contradicting outcome', makeEvent({ allowed: false }), /allowed/],
    ['a non-object', 'hello', /not a JSON object/],
  ])('dead-letters %s at once instead of retrying', async (_name, body, error) => {
    const good = makeEvent();
    const batch = createMessageBatch('vakt-audit', [message(body, 1, 'm-bad'), message(good)]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<AuditEvent>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(await auditIds()).toEqual([good.decision_id]);
    const [dl] = await deadLetters();
    expect(dl!.reason).toBe('invalid_event');
    expect(dl!.error).toMatch(error);
    expect(dl!.attempts).toBe(1);
    const id = typeof body === 'object' && body ? body.decision_id : null;
    expect(dl!.id).toBe(id ?? 'message:m-bad');
  });

  it('never echoes values of an invalid body in the stored error', async () => {
    const body = { ...makeEvent(), v: 2, model: 12345678901, request_id: 'ola@example.com' };
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message(body)]), {
      db: env.DB,
      report: reporter().report,
    });
    const [dl] = await deadLetters();
    expect(dl!.error).toBe('invalid v2 event: model: invalid_type');
    expect(dl!.payload).not.toContain('ola@example.com');
  });
});

describe('vakt-audit-dlq consumer', () => {
  beforeEach(async () => {
    await clearAudit();
    metrics.drain();
  });

  it('keeps each dead-lettered event once, counts and reports it', async () => {
    const e = makeEvent();
    const { reports, report } = reporter();
    for (let i = 0; i < 2; i++) {
      // The same message delivered twice to the DLQ consumer.
      const batch = createMessageBatch('vakt-audit-dlq', [message(e, 1, 'm1')]);
      await consumeDeadLetterBatch(batch, { db: env.DB, report });
      const result = await getQueueResult(batch, createExecutionContext());
      expect(result.explicitAcks).toEqual(['m1']);
    }
    const rows = await deadLetters();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: e.decision_id,
      queue: 'vakt-audit',
      reason: 'retries_exhausted',
      attempts: 4,
    });
    expect(JSON.parse(rows[0]!.payload!)).toEqual(e);
    expect(counters()).toEqual({ logs_dropped_total: 1 });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.tags).toMatchObject({
      component: 'audit_dlq',
      dead_letter_id: e.decision_id,
    });
  });

  it('is dispatched by queue name from the Worker entry point', async () => {
    const e = makeEvent();
    const batch = createMessageBatch('vakt-audit-dlq', [message(e)]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<AuditEvent>, env, ctx);
    await getQueueResult(batch, ctx);
    expect(await countRows('audit_dead_letters', 'id = ?', e.decision_id)).toBe(1);
    expect(await countRows('audit_log')).toBe(0);
  });

  it('does not dead-letter an event that is in the log after all', async () => {
    const e = makeEvent();
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message(e)]), {
      db: env.DB,
      report: reporter().report,
    });
    metrics.drain();
    await consumeDeadLetterBatch(createMessageBatch('vakt-audit-dlq', [message(e)]), {
      db: env.DB,
      report: reporter().report,
    });
    expect(await countRows('audit_dead_letters')).toBe(0);
    expect(counters()).toEqual({});
  });

  it('retries while D1 is down and counts the loss when its own retries run out', async () => {
    const e = makeEvent();
    const db = failingD1(env.DB, down);
    const first = createMessageBatch('vakt-audit-dlq', [message(e, 1, 'm1')]);
    const retried = await consumeDeadLetterBatch(first, { db, report: reporter().report });
    expect((await getQueueResult(first, createExecutionContext())).retryMessages).toEqual([
      { msgId: 'm1' },
    ]);
    // Longer steps than the main queue: the DLQ rides out a D1 outage of ~15 minutes.
    expect(retried.outcomes).toEqual([{ id: 'm1', action: 'retry', delaySeconds: 30 }]);
    expect(counters()).toEqual({});

    const { reports, report } = reporter();
    const last = createMessageBatch('vakt-audit-dlq', [message(e, 6, 'm1')]);
    const summary = await consumeDeadLetterBatch(last, { db, report });
    expect((await getQueueResult(last, createExecutionContext())).explicitAcks).toEqual(['m1']);
    expect(summary.outcomes).toEqual([{ id: 'm1', action: 'lost' }]);
    expect(counters()).toEqual({ logs_dropped_total: 1 });
    expect(reports.at(-1)!.err).toMatchObject({ name: 'AuditEventLostError' });
  });
});

describe('queue dispatch', () => {
  it('keeps the messages of a queue it has no consumer for', async () => {
    const batch = createMessageBatch('some-other-queue', [message(makeEvent())]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<AuditEvent>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
  });
});
