/**
 * Reliability: fault injection across components. Each test breaks one dependency for real
 * traffic and then checks the end-to-end books, not just the component's own reaction:
 * every decision the clients received is in the audit log exactly once (or counted in
 * logs_dropped_total and reported to Sentry), and the metrics equal the traffic.
 *
 * Faults are injected by handing the app an env whose binding fails — the same seam the
 * component tests use (RateLimiterNamespace, ProducerDeps, D1) — while every other binding is the
 * real local one. The component suites cover each reaction in isolation (rate-limit.test.ts,
 * audit-*.test.ts, metrics.test.ts, sentry.test.ts); this file checks they compose.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { AuditMessageBody } from '../../src/audit/event';
import { AUDIT_MAX_RETRIES } from '../../src/audit/limits';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { flushIdle, flushMetrics } from '../../src/metrics/flush';
import { sentryStats } from '../../src/observability/stats';
import { ADMIN_TOKEN, BASE, createKey } from './helpers';
import { sample, scrape } from './metrics-helpers';
import { SentryProject } from './sentry-sink-client';

const N = 12;

function failing<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => () => {
      throw new Error(`${what} unavailable (injected)`);
    },
  });
}

/** A Durable Object namespace whose every object call throws. */
function failingNamespace<T>(what: string): T {
  return {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () => failing(what),
  } as unknown as T;
}

async function call(req: Request, testEnv: Env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(req, testEnv, ctx);
  await res.clone().arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

function checkReq(key: string, input = 'Summarise the meeting notes.'): Request {
  return new Request(BASE + '/v1/check', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input }),
  });
}

/** Ships every buffered/pending metric delta with the real bindings (bounded, incl. backoff). */
async function settle(): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (!flushIdle() && Date.now() < deadline) {
    const ctx = createExecutionContext();
    flushMetrics(env, ctx);
    await waitOnExecutionContext(ctx);
    if (!flushIdle()) await scheduler.wait(50);
  }
  expect(flushIdle(), 'metrics flushed').toBe(true);
}

async function counters(): Promise<(name: string, labels?: Record<string, string>) => number> {
  await settle();
  const text = await scrape();
  return (name, labels = {}) => sample(text, name, labels) ?? 0;
}

async function auditRows(
  keyId: string,
  expected: number,
): Promise<{ decision_id: string; via: string; outcome: string }[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { results } = await env.DB.prepare(
      'SELECT decision_id, via, outcome FROM audit_log WHERE api_key_id = ?',
    )
      .bind(keyId)
      .all<{ decision_id: string; via: string; outcome: string }>();
    if (results.length >= expected || Date.now() > deadline) return results;
    await scheduler.wait(100);
  }
}

/** How many of `ids` are in the R2 archive (each counted once). */
async function countArchived(ids: readonly string[]): Promise<number> {
  const want = new Set(ids);
  const found = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await env.AUDIT_ARCHIVE.list({ prefix: 'audit/v1/', cursor });
    for (const o of page.objects) {
      const body = (await env.AUDIT_ARCHIVE.get(o.key))!.body;
      const text = await new Response(body.pipeThrough(new DecompressionStream('gzip'))).text();
      for (const line of text.trim().split('\n')) {
        const id = (JSON.parse(line) as { decision_id: string }).decision_id;
        if (want.has(id)) found.add(id);
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return found.size;
}

async function decisionIds(responses: Response[]): Promise<string[]> {
  return Promise.all(
    responses.map(async (r) => ((await r.json()) as { decision_id: string }).decision_id),
  );
}

describe('fault injection', { timeout: 90_000 }, () => {
  it('METRICS objects throwing: responses unaffected, deltas kept and delivered exactly once later', async () => {
    const { key, id } = await createKey({ name: 'fault-metrics' });
    const before = await counters();
    const broken: Env = { ...env, METRICS: failingNamespace('METRICS') };
    const responses: Response[] = [];
    for (let i = 0; i < N; i++) responses.push(await call(checkReq(key), broken));
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    expect(flushIdle(), 'deltas are still held for retry').toBe(false);

    // The objects are back: the held flushes go out, once.
    const after = await counters();
    const q = { method: 'POST', endpoint: '/v1/check', status: '200' };
    expect(after('requests_total', q) - before('requests_total', q)).toBe(N);
    expect(
      after('governance_allowed_total', { model: 'gpt-4', operation: 'classify' }) -
        before('governance_allowed_total', { model: 'gpt-4', operation: 'classify' }),
    ).toBe(N);
    const ids = await decisionIds(responses);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
  });

  it('RATE_LIMITER throwing, fail_open (default): admitted, counted, audited, reported once', async () => {
    const sentry = new SentryProject();
    const { key, id } = await createKey({ name: 'fault-rl-open' });
    const before = await counters();
    const broken: Env = {
      ...env,
      SENTRY_DSN: sentry.dsn,
      RATE_LIMITER: failingNamespace('RATE_LIMITER'),
    };
    const responses: Response[] = [];
    for (let i = 0; i < N; i++) responses.push(await call(checkReq(key), broken));
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const ids = await decisionIds(responses);

    const after = await counters();
    expect(
      after('rate_limit_failures_total', { mode: 'fail_open' }) -
        before('rate_limit_failures_total', { mode: 'fail_open' }),
    ).toBe(N);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.outcome === 'allowed')).toBe(true);
    // Reported, but throttled: one event per mode per interval, not one per request.
    const events = await sentry.events();
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThan(N);
    expect(events[0]?.tags?.component).toBe('rate_limiter');
  });

  it('RATE_LIMITER throwing, fail_closed: 503 problem, audited as rate_limited, not a quota hit', async () => {
    const { key, id } = await createKey({ name: 'fault-rl-closed' });
    const before = await counters();
    const broken: Env = {
      ...env,
      RATE_LIMIT_FAILURE_MODE: 'fail_closed',
      RATE_LIMITER: failingNamespace('RATE_LIMITER'),
    };
    const responses: Response[] = [];
    for (let i = 0; i < N; i++) responses.push(await call(checkReq(key), broken));
    for (const r of responses) {
      expect(r.status).toBe(503);
      expect(r.headers.get('Content-Type')).toBe('application/problem+json');
      expect(r.headers.get('Retry-After')).toMatch(/^\d+$/);
    }
    const ids = await decisionIds(responses);
    const after = await counters();
    expect(
      after('rate_limit_failures_total', { mode: 'fail_closed' }) -
        before('rate_limit_failures_total', { mode: 'fail_closed' }),
    ).toBe(N);
    expect(after('rate_limit_hits_total', { api_key_id: id })).toBe(0);
    const q = { method: 'POST', endpoint: '/v1/check', status: '503' };
    expect(after('requests_total', q) - before('requests_total', q)).toBe(N);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.outcome === 'rate_limited')).toBe(true);
  });

  it('queue sendBatch() failing: every event stored directly (D1 and the archive), none lost', async () => {
    const { key, id } = await createKey({ name: 'fault-queue' });
    const before = await counters();
    const broken: Env = {
      ...env,
      AUDIT_QUEUE: failing<Queue<AuditMessageBody>>('AUDIT_QUEUE'),
    };
    // Concurrent, as real traffic is: one leader retries (with backoff) for all of them.
    const responses = await Promise.all(
      Array.from({ length: N }, () => call(checkReq(key), broken)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const ids = await decisionIds(responses);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.via === 'fallback')).toBe(true);
    expect(await countArchived(ids)).toBe(N);
    const after = await counters();
    expect(after('logs_queued_total') - before('logs_queued_total')).toBe(N);
    expect(after('logs_written_total') - before('logs_written_total')).toBe(N);
    expect(after('logs_dropped_total') - before('logs_dropped_total')).toBe(0);
  });

  it('queue sendBatch() throwing "Too Many Requests" for a while: backs off, then queued — one row each', async () => {
    const { key, id } = await createKey({ name: 'fault-throttled' });
    const before = await counters();
    let calls = 0;
    const throttled: Env = {
      ...env,
      AUDIT_QUEUE: {
        sendBatch: (msgs: Iterable<MessageSendRequest<AuditMessageBody>>) =>
          ++calls <= 2
            ? Promise.reject(new Error('Too Many Requests'))
            : env.AUDIT_QUEUE.sendBatch(msgs),
      } as unknown as Queue<AuditMessageBody>,
    };
    const responses = await Promise.all(
      Array.from({ length: N }, () => call(checkReq(key), throttled)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const ids = await decisionIds(responses);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.via === 'queue')).toBe(true);
    expect(calls).toBeGreaterThanOrEqual(3);
    const after = await counters();
    expect(after('logs_queued_total') - before('logs_queued_total')).toBe(N);
    expect(after('logs_dropped_total') - before('logs_dropped_total')).toBe(0);
  });

  it('R2 put failing in the consumer: retried, and on the final delivery written to D1 unarchived', async () => {
    const { key, id } = await createKey({ name: 'fault-r2' });
    const captured: AuditMessageBody[] = [];
    const capturing: Env = {
      ...env,
      AUDIT_QUEUE: {
        sendBatch: async (msgs: Iterable<MessageSendRequest<AuditMessageBody>>) => {
          for (const m of msgs) captured.push(m.body);
        },
      } as unknown as Queue<AuditMessageBody>,
    };
    const responses = await Promise.all(
      Array.from({ length: N }, () => call(checkReq(key), capturing)),
    );
    const ids = await decisionIds(responses);
    const brokenR2: Env = { ...env, AUDIT_ARCHIVE: failing<R2Bucket>('R2') };
    const deliver = async (attempts: number) => {
      const batch = createMessageBatch<AuditMessageBody>(
        'vakt-audit',
        captured.map((body, i) => ({ id: `r${i}`, timestamp: new Date(), attempts, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, brokenR2, ctx);
      return getQueueResult(batch, ctx);
    };
    const first = await deliver(1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(captured.length);
    expect((await auditRows(id, 0)).length).toBe(0);
    const last = await deliver(AUDIT_MAX_RETRIES + 1);
    expect(last.explicitAcks).toHaveLength(captured.length);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    expect(await countArchived(ids)).toBe(0);
    const { n } = (await env.DB.prepare(
      `SELECT count(*) AS n FROM audit_log WHERE archived = 0 AND api_key_id = ?`,
    )
      .bind(id)
      .first<{ n: number }>())!;
    expect(n).toBe(N); // the retention cron archives them before trimming
  });

  it('queue sendBatch(), D1 and R2 all failing: the decision stands, the loss is counted and reported', async () => {
    const sentry = new SentryProject();
    const { key, id } = await createKey({ name: 'fault-queue-d1' });
    // Warm this isolate's key cache so authentication does not need the broken D1.
    expect((await call(checkReq(key), env)).status).toBe(200);
    await auditRows(id, 1);
    const before = await counters();
    const broken: Env = {
      ...env,
      SENTRY_DSN: sentry.dsn,
      AUDIT_QUEUE: failing<Queue<AuditMessageBody>>('AUDIT_QUEUE'),
      AUDIT_ARCHIVE: failing<R2Bucket>('R2'),
      DB: failing<D1Database>('D1'),
    };
    const responses = await Promise.all(
      Array.from({ length: N }, () => call(checkReq(key), broken)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const ids = await decisionIds(responses);

    const after = await counters();
    expect(after('logs_dropped_total') - before('logs_dropped_total')).toBe(N);
    expect(after('logs_queued_total') - before('logs_queued_total')).toBe(N);
    expect(after('async_logger_queue_size')).toBe(0);
    const events = await sentry.events();
    // One report per flush, listing every lost decision id.
    const reported = new Set(
      events.flatMap((e) => (e.extra?.decision_ids as string[] | undefined) ?? []),
    );
    for (const d of ids) expect(reported.has(d), `loss of ${d} reported`).toBe(true);
    expect((await auditRows(id, 1)).length).toBe(1); // only the warm-up decision
  });

  it('D1 failing in the consumer: retried, dead-lettered, replayed — every decision logged once', async () => {
    const { key, id } = await createKey({ name: 'fault-consumer' });
    // Capture real events from real decisions (this queue stands in for delivery only).
    const captured: AuditMessageBody[] = [];
    const capturing: Env = {
      ...env,
      AUDIT_QUEUE: {
        sendBatch: async (msgs: Iterable<MessageSendRequest<AuditMessageBody>>) => {
          for (const m of msgs) captured.push(m.body);
        },
      } as unknown as Queue<AuditMessageBody>,
    };
    const responses: Response[] = [];
    for (let i = 0; i < N; i++) responses.push(await call(checkReq(key), capturing));
    const ids = await decisionIds(responses);
    expect(
      captured
        .flatMap((b) => ('pack' in b ? b.events : [b]))
        .map((e) => e.decision_id)
        .sort(),
    ).toEqual([...ids].sort());
    const before = await counters();

    const deliver = async (queue: string, attempts: number, testEnv: Env) => {
      const batch = createMessageBatch<AuditMessageBody>(
        queue,
        captured.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, testEnv, ctx);
      return getQueueResult(batch, ctx);
    };
    const brokenDb: Env = { ...env, DB: failing<D1Database>('D1') };
    // First delivery and the last one on vakt-audit: nothing acked, everything retried.
    for (const attempts of [1, AUDIT_MAX_RETRIES + 1]) {
      const r = await deliver('vakt-audit', attempts, brokenDb);
      expect(r.explicitAcks).toEqual([]);
      expect(r.retryMessages.map((m: { msgId: string }) => m.msgId).sort()).toEqual(
        captured.map((_, i) => `m${i}`).sort(),
      );
    }
    expect((await auditRows(id, 0)).length).toBe(0);

    // The platform moves them to vakt-audit-dlq; its consumer keeps each one (D1 is back).
    const dlq = await deliver('vakt-audit-dlq', 1, env);
    expect(dlq.explicitAcks.length).toBe(captured.length);
    const { results: dead } = await env.DB.prepare(
      `SELECT decision_id, reason FROM audit_dead_letters WHERE decision_id IN (${ids.map(() => '?').join(',')})`,
    )
      .bind(...ids)
      .all<{ decision_id: string; reason: string }>();
    expect(dead.map((d) => d.decision_id).sort()).toEqual([...ids].sort());
    expect(dead.every((d) => d.reason === 'retries_exhausted')).toBe(true);
    const mid = await counters();
    expect(mid('logs_dropped_total') - before('logs_dropped_total')).toBe(N);

    // Replay puts them into the audit log; a second replay and a late redelivery add nothing.
    for (let i = 0; i < 2; i++) {
      const res = await call(
        new Request(BASE + '/admin/audit/dead-letters/replay', {
          method: 'POST',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
          body: '{}',
        }),
        env,
      );
      expect(res.status).toBe(200);
    }
    await deliver('vakt-audit', 2, env);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    // Replays reach the archive too.
    expect(await countArchived(ids)).toBe(N);
  });

  it('Sentry unreachable: responses and books unaffected, the failed sends counted', async () => {
    const { key, id } = await createKey({ name: 'fault-sentry' });
    const before = await counters();
    const stats = sentryStats();
    // Port 9 (discard) refuses connections on loopback; a failing dependency makes reports.
    const broken: Env = {
      ...env,
      SENTRY_DSN: 'http://public@127.0.0.1:9/1',
      RATE_LIMITER: failingNamespace('RATE_LIMITER'),
    };
    const responses: Response[] = [];
    for (let i = 0; i < N; i++) responses.push(await call(checkReq(key), broken));
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const failedAdmin = await call(
      new Request(BASE + '/admin/keys', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
      { ...broken, DB: failing<D1Database>('D1') },
    );
    expect(failedAdmin.status).toBe(500);
    expect(failedAdmin.headers.get('Content-Type')).toBe('application/problem+json');
    const ids = await decisionIds(responses);

    expect(sentryStats().failed - stats.failed).toBeGreaterThanOrEqual(1);
    expect(sentryStats().sent - stats.sent).toBe(0);
    const rows = await auditRows(id, N);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    const after = await counters();
    const q = { method: 'POST', endpoint: '/v1/check', status: '200' };
    expect(after('requests_total', q) - before('requests_total', q)).toBe(N);
  });
});
