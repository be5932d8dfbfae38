import { backlogGauge } from '../../src/audit/backlog';
import {
  abortAllDurableObjects,
  createExecutionContext,
  createMessageBatch,
  env,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import {
  isWellFormedFlush,
  MAX_DELTAS_PER_FLUSH,
  type MetricsFlush,
} from '../../src/metrics/aggregate';
import {
  flushIdle,
  flushMetrics,
  LEADER_STALE_MS,
  MAX_PENDING_AGE_MS,
  metricsShard,
} from '../../src/metrics/flush';
import { DEDUPE_RETENTION_MS, type Metrics } from '../../src/metrics/metrics-object';
import { metrics } from '../../src/metrics/recorder';
import { ADMIN_TOKEN, BASE } from './helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

/** Calls the Worker with our own ExecutionContext, so its waitUntil work can be awaited. */
async function call(
  path: string,
  init: RequestInit = {},
  e: Env = env,
): Promise<{ res: Response; body: string; done: Promise<void> }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(BASE + path, init), e, ctx);
  const body = await res.text();
  return { res, body, done: waitOnExecutionContext(ctx) };
}

async function newKey(policy?: unknown): Promise<{ id: string; key: string }> {
  const { body, done } = await call('/admin/keys', {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'metrics', ...(policy ? { policy } : {}) }),
  });
  await done;
  return JSON.parse(body) as { id: string; key: string };
}

function checkInit(key: string, body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** Difference of one sample between two scrapes (absent = 0). */
function delta(before: string, after: string, name: string, labels: Record<string, string> = {}) {
  return (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
}

const flush = (id: string, deltas: MetricsFlush['deltas']): MetricsFlush => ({ id, deltas });
const hits = (apiKeyId: string, value = 1): MetricsFlush['deltas'][number] => ({
  kind: 'counter',
  name: 'rate_limit_hits_total',
  labels: { api_key_id: apiKeyId },
  value,
});

describe('exact counts', () => {
  it('counts a concurrent traffic mix exactly (requests, decisions, stages, rate limits)', async () => {
    const open = await newKey();
    const narrow = await newKey({ models: ['gpt-4*'], detectors: { email: 'block' } });
    const tight = await newKey({ rate_limit: { limit: 3, window_s: 3600 } });
    await settleMetrics();
    const before = await scrape();

    const jobs: ReturnType<typeof call>[] = [];
    const allowed = 24;
    for (let i = 0; i < allowed; i++)
      jobs.push(
        call('/v1/check', checkInit(open.key, { model: 'gpt-4', operation: 'chat', input: 'hi' })),
      );
    for (let i = 0; i < 6; i++)
      jobs.push(
        call(
          '/v1/check',
          checkInit(narrow.key, { model: 'claude-3', operation: 'chat', input: 'x' }),
        ),
      );
    for (let i = 0; i < 5; i++)
      jobs.push(
        call(
          '/v1/check',
          checkInit(narrow.key, { model: 'gpt-4o', operation: 'summarize', input: 'mail a@b.no' }),
        ),
      );
    for (let i = 0; i < 7; i++)
      jobs.push(
        call('/v1/check', checkInit(tight.key, { model: 'gpt-4', operation: 'chat', input: 'y' })),
      );
    for (let i = 0; i < 4; i++) jobs.push(call('/no/such/path'));
    for (let i = 0; i < 3; i++) jobs.push(call('/v1/check')); // GET on a POST route → 405
    for (let i = 0; i < 2; i++)
      jobs.push(
        call('/v1/check', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        }),
      ); // no API key → 401
    const results = await Promise.all(jobs);
    await Promise.all(results.map((r) => r.done));
    const statuses = results.map((r) => r.res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(allowed + 6 + 5 + 3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    await settleMetrics();
    const after = await scrape();

    const req = (method: string, endpoint: string, status: string) =>
      delta(before, after, 'requests_total', { method, endpoint, status });
    expect(req('POST', '/v1/check', '200')).toBe(allowed + 6 + 5 + 3);
    expect(req('POST', '/v1/check', '429')).toBe(4);
    expect(req('POST', '/v1/check', '401')).toBe(2);
    expect(req('GET', 'unmatched', '404')).toBe(4);
    expect(req('GET', 'unmatched', '405')).toBe(3);
    expect(delta(before, after, 'request_latency_ms_count', { endpoint: '/v1/check' })).toBe(
      allowed + 6 + 5 + 7 + 2,
    );
    expect(
      delta(before, after, 'governance_allowed_total', { model: 'gpt-4', operation: 'chat' }),
    ).toBe(allowed + 3);
    expect(
      delta(before, after, 'governance_blocked_total', {
        // claude-3 is not an exact KNOWN_MODELS id: labelled by the pattern it matches.
        model: 'claude-*',
        operation: 'chat',
        reason: 'model_not_allowed',
      }),
    ).toBe(6);
    expect(
      delta(before, after, 'governance_blocked_total', {
        model: 'gpt-4o',
        operation: 'summarize',
        reason: 'contains_personal_data',
      }),
    ).toBe(5);
    expect(delta(before, after, 'rate_limit_hits_total', { api_key_id: tight.id })).toBe(4);
    // Every authenticated check passes the rate_limit stage; only admitted ones the rest.
    const stage = (s: string) =>
      delta(before, after, 'governance_check_latency_ms_count', { stage: s });
    expect(stage('rate_limit')).toBe(allowed + 6 + 5 + 7);
    expect(stage('validation')).toBe(allowed + 6 + 5 + 3);
    expect(stage('scoring')).toBe(allowed + 6 + 5 + 3);
    expect(stage('logging')).toBe(allowed + 6 + 5 + 3);
    // Each decision (including rate-limited ones) was queued once.
    expect(delta(before, after, 'logs_queued_total')).toBe(allowed + 6 + 5 + 7);
  });

  it('labels a parameterised route by its pattern, not its path', async () => {
    const key = await newKey();
    await settleMetrics();
    const before = await scrape();
    const { done } = await call(`/admin/keys/${key.id}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    await done;
    await settleMetrics();
    const after = await scrape();
    expect(
      delta(before, after, 'requests_total', {
        method: 'GET',
        endpoint: '/admin/keys/{id}',
        status: '200',
      }),
    ).toBe(1);
    expect(after).not.toContain(key.id);
  });

  it('flushes what a queue batch recorded', async () => {
    const before = await scrape();
    await settleMetrics(); // no leader running: the queue handler's flush is the one under test
    metrics.inc('rate_limit_hits_total', { api_key_id: 'queue-handler-test' }, 3);
    const ctx = createExecutionContext();
    const batch = createMessageBatch<AuditEvent>('vakt-audit', []);
    await worker.queue(batch, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(flushIdle()).toBe(true);
    const after = await scrape();
    expect(
      delta(before, after, 'rate_limit_hits_total', { api_key_id: 'queue-handler-test' }),
    ).toBe(3);
  });
});

describe('exactly-once delivery', () => {
  it('accepts a flush of MAX_DELTAS_PER_FLUSH deltas, the most a sender sends, and not one more', async () => {
    const stub = metricsShard(env, 1);
    const deltas = (n: number) => Array.from({ length: n }, () => hits('max-key', 1));
    expect(await stub.ingest(flush('max-ok', deltas(MAX_DELTAS_PER_FLUSH)))).toMatchObject({
      applied: true,
    });
    // One more is refused (a TypeError from the object): isWellFormedFlush, tested in
    // test/node/metrics-logic.test.ts at MAX_DELTAS_PER_FLUSH + 1.
    expect(isWellFormedFlush(flush('max-over', deltas(MAX_DELTAS_PER_FLUSH + 1)))).toBe(false);
  });

  it('applies a retried flush (same id) once', async () => {
    const stub = metricsShard(env, 0);
    const f = flush('retry-1', [hits('dedupe-key', 5)]);
    expect(await stub.ingest(f)).toEqual({ applied: true, rejected: 0 });
    expect(await stub.ingest(f)).toEqual({ applied: false, rejected: 0 });
    const series = (await stub.snapshot()).find((s) => s.labels[0] === 'dedupe-key');
    expect(series).toMatchObject({ kind: 'counter', value: 5 });
  });

  it('retries a flush whose reply was lost, without double counting', async () => {
    const before = await scrape();
    await settleMetrics();
    let calls = 0;
    // The real namespace, except the first ingest's reply is lost after it was applied.
    const lossy = {
      idFromName: (name: string) => env.METRICS.idFromName(name),
      get: (id: DurableObjectId) => {
        const real = env.METRICS.get(id);
        return {
          ingest: async (f: MetricsFlush) => {
            const result = await real.ingest(f);
            if (++calls === 1) throw new Error('connection reset');
            return result;
          },
        };
      },
    } as unknown as Env['METRICS'];
    const lossyEnv = { ...env, METRICS: lossy };
    metrics.inc('rate_limit_hits_total', { api_key_id: 'lost-reply' }, 7);

    let ctx = createExecutionContext();
    flushMetrics(lossyEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(flushIdle()).toBe(false); // the flush is still queued for retry
    ctx = createExecutionContext();
    flushMetrics(lossyEnv, ctx, Date.now() + 60_000); // past the backoff
    await waitOnExecutionContext(ctx);
    expect(calls).toBe(2);
    expect(flushIdle()).toBe(true);

    const after = await scrape();
    expect(delta(before, after, 'rate_limit_hits_total', { api_key_id: 'lost-reply' })).toBe(7);
  });

  it('lets a new leader take over from a stalled one without double counting', async () => {
    const before = await scrape();
    await settleMetrics();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    // The first ingest stalls (as if its request were frozen); later ones go straight through.
    const stalling = {
      idFromName: (name: string) => env.METRICS.idFromName(name),
      get: (id: DurableObjectId) => ({
        ingest: async (f: MetricsFlush) => {
          sent.push(f.id);
          if (sent.length === 1) await gate;
          return env.METRICS.get(id).ingest(f);
        },
      }),
    } as unknown as Env['METRICS'];
    const stallEnv = { ...env, METRICS: stalling };
    metrics.inc('rate_limit_hits_total', { api_key_id: 'takeover' }, 4);
    const first = createExecutionContext();
    flushMetrics(stallEnv, first);
    for (let i = 0; i < 100 && sent.length === 0; i++) await scheduler.wait(1);
    metrics.inc('rate_limit_hits_total', { api_key_id: 'takeover' }, 5);
    // Not stale yet: the second request leaves its deltas to the leader.
    const early = createExecutionContext();
    flushMetrics(stallEnv, early);
    await waitOnExecutionContext(early);
    expect(sent).toHaveLength(1);
    // Stale: the next request leads, resends the stalled flush (same id) and then the new deltas.
    const second = createExecutionContext();
    flushMetrics(stallEnv, second, Date.now() + LEADER_STALE_MS + 1);
    await waitOnExecutionContext(second);
    expect(sent).toHaveLength(3);
    expect(sent[1]).toBe(sent[0]);
    release();
    await waitOnExecutionContext(first);
    expect(flushIdle()).toBe(true);
    const after = await scrape();
    expect(delta(before, after, 'rate_limit_hits_total', { api_key_id: 'takeover' })).toBe(9);
  });

  it('splits a large buffer into several flushes and loses nothing', async () => {
    const before = await scrape();
    await settleMetrics();
    const n = MAX_DELTAS_PER_FLUSH * 2 + 17;
    for (let i = 0; i < n; i++) metrics.inc('rate_limit_hits_total', { api_key_id: `bulk-${i}` });
    const ctx = createExecutionContext();
    flushMetrics(env, ctx);
    await waitOnExecutionContext(ctx);
    expect(flushIdle()).toBe(true);
    const after = await scrape();
    // Past the cap the ids fold into "other", but every increment is counted exactly once.
    const total = (text: string) =>
      [...text.matchAll(/^rate_limit_hits_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    expect(total(after) - total(before)).toBe(n);
    expect(after.match(/^rate_limit_hits_total\{/gm)!.length).toBeLessThanOrEqual(1001);
  });

  it('remembers flush ids longer than a sender retries them', () => {
    expect(DEDUPE_RETENTION_MS).toBeGreaterThanOrEqual(2 * MAX_PENDING_AGE_MS);
  });

  it('forgets flush ids after the retention period', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('retention-test'));
    const t0 = 1_000_000;
    expect((await stub.ingest(flush('old', [hits('r')]), t0)).applied).toBe(true);
    expect((await stub.ingest(flush('old', [hits('r')]), t0 + 1)).applied).toBe(false);
    const later = t0 + DEDUPE_RETENTION_MS + 60_001;
    expect((await stub.ingest(flush('new', [hits('r')]), later)).applied).toBe(true);
    expect((await stub.ingest(flush('old', [hits('r')]), later + 1)).applied).toBe(true);
    await runInDurableObject(stub, (_instance, state) => {
      const ids = state.storage.sql
        .exec<{ id: string }>('SELECT id FROM applied_flushes ORDER BY id')
        .toArray()
        .map((r) => r.id);
      expect(ids).toEqual(['new', 'old']);
    });
  });
});

describe('the METRICS object', () => {
  it('keeps its totals across a restart', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('restart-test'));
    await stub.ingest(
      flush('r1', [
        hits('k1', 2),
        {
          kind: 'histogram',
          name: 'request_latency_ms',
          labels: { endpoint: '/health' },
          buckets: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
          sum: 20000.5,
          count: 2,
        },
      ]),
    );
    const before = await stub.snapshot();
    await abortAllDurableObjects();
    const restarted = env.METRICS.get(env.METRICS.idFromName('restart-test'));
    // A fresh instance: nothing in memory yet, everything from SQLite.
    await runInDurableObject(restarted, (instance) => {
      expect((instance as Metrics).snapshot()).toEqual(before);
    });
    expect(await restarted.ingest(flush('r1', [hits('k1', 2)]))).toMatchObject({ applied: false });
    await restarted.ingest(flush('r2', [hits('k1', 1)]));
    const after = await restarted.snapshot();
    expect(after.find((s) => s.name === 'rate_limit_hits_total')).toMatchObject({ value: 3 });
    expect(after.find((s) => s.name === 'request_latency_ms')).toMatchObject({
      buckets: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
      sum: 20000.5,
      count: 2,
    });
  });

  it('caps distinct api_key_id values and folds the rest into "other"', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('cap-test'));
    const deltas = Array.from({ length: 1003 }, (_, i) =>
      hits(`key-${String(i).padStart(4, '0')}`),
    );
    await stub.ingest(flush('c1', deltas.slice(0, 600)));
    await stub.ingest(flush('c2', deltas.slice(600)));
    // A value admitted before the cap was reached keeps its own series.
    await stub.ingest(flush('c3', [hits('key-0005', 4), hits('late-key', 2)]));
    const snap = (await stub.snapshot()).filter((s) => s.name === 'rate_limit_hits_total');
    expect(snap).toHaveLength(1001);
    expect(snap.find((s) => s.labels[0] === 'other')).toMatchObject({ value: 5 });
    expect(snap.find((s) => s.labels[0] === 'key-0005')).toMatchObject({ value: 5 });
    expect(snap.some((s) => s.labels[0] === 'late-key')).toBe(false);
    // What folded (3 + 2 events) is counted, in the same transaction as the totals.
    expect(
      (await stub.snapshot()).find((s) => s.name === 'metrics_series_folded_total'),
    ).toMatchObject({ labels: ['rate_limit_hits_total'], value: 5 });
  });

  it('ignores deltas that do not fit the catalogue', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('reject-test'));
    const bad = [
      { kind: 'counter', name: 'no_such_total', labels: {}, value: 1 },
      { kind: 'counter', name: 'rate_limit_hits_total', labels: { wrong: 'x' }, value: 1 },
      { kind: 'counter', name: 'rate_limit_hits_total', labels: { api_key_id: 'x' }, value: -1 },
      {
        kind: 'histogram',
        name: 'request_latency_ms',
        labels: { endpoint: '/' },
        buckets: [1],
        sum: 1,
        count: 1,
      },
    ] as unknown as MetricsFlush['deltas'];
    expect(await stub.ingest(flush('bad', [...bad, hits('good')]))).toEqual({
      applied: true,
      rejected: 4,
    });
    expect((await stub.snapshot()).map((s) => s.labels)).toEqual([['good']]);
    let error: unknown;
    try {
      await stub.ingest({ id: '', deltas: [] });
    } catch (err) {
      error = err;
    }
    expect(String(error)).toMatch(/malformed metrics flush/);
  });
});

describe('closed label vocabularies', () => {
  it('labels a caller model by its KNOWN_MODELS entry, never by the caller string', async () => {
    const { key } = await newKey({ models: ['*'], rate_limit: { limit: 1000, window_s: 60 } });
    await settleMetrics();
    const before = await scrape();
    const models = [
      'gpt-4 kari.nordmann@example.no fnr 01010012356',
      // Exposition syntax (a newline is refused outright: test/workers/hostile-fields.test.ts).
      'gpt-4"} 1 fake_total{a="b"} 9',
      ...Array.from({ length: 100 }, (_, i) => `gpt-4-invented-${i}`),
    ];
    const results = await Promise.all(
      models.map((model) =>
        call('/v1/check', checkInit(key, { model, operation: 'chat', input: 'hi' })),
      ),
    );
    await Promise.all(results.map((r) => r.done));
    expect(results.map((r) => r.res.status)).toEqual(models.map(() => 200));
    await settleMetrics();
    const after = await scrape();
    expect(
      delta(before, after, 'governance_allowed_total', { model: 'gpt-*', operation: 'chat' }),
    ).toBe(models.length);
    for (const leak of ['kari', '01010012356', 'fake_total', 'invented'])
      expect(after).not.toContain(leak);
    const series = (text: string) => text.match(/^governance_allowed_total\{/gm)?.length ?? 0;
    expect(series(after) - series(before)).toBeLessThanOrEqual(1);
  });
});

describe('POST /admin/metrics/delete-series', () => {
  const deleteSeries = async (body: unknown, token = ADMIN_TOKEN) => {
    const {
      res,
      body: text,
      done,
    } = await call('/admin/metrics/delete-series', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    await done;
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  };

  it('deletes a series stored before ill-formed values were refused, on every shard', async () => {
    await settleMetrics();
    // As an object that stored it before this release would hold it (ingest now refuses it).
    for (const shard of [1, 3])
      await runInDurableObject(metricsShard(env, shard), (_i, state) => {
        state.storage.sql.exec(
          `INSERT INTO series (name, labels, kind, first_seen, value) VALUES (?, ?, 'counter', 1, ?)`,
          'governance_allowed_total',
          JSON.stringify(['gpt-4\udc00', 'chat']),
          shard,
        );
      });
    await abortAllDurableObjects(); // the objects reload their tables from SQLite
    const text = await scrape();
    // A last guard keeps the scrape valid UTF-8: the lone surrogate is shown as U+FFFD.
    expect(
      sample(text, 'governance_allowed_total', { model: 'gpt-4\ufffd', operation: 'chat' }),
    ).toBe(4);
    const match = { family: 'governance_allowed_total', labels: { model: 'gpt-4\ufffd' } };
    expect(await deleteSeries({ ...match, dry_run: true })).toEqual({
      status: 200,
      body: { matched: 2, deleted: 0, dry_run: true },
    });
    expect(await deleteSeries(match)).toEqual({
      status: 200,
      body: { matched: 2, deleted: 2, dry_run: false },
    });
    expect(await scrape()).not.toContain('gpt-4\ufffd');
    // Idempotent, and it survives a restart (deleted from storage, not just memory).
    await abortAllDurableObjects();
    expect((await deleteSeries(match)).body).toMatchObject({ matched: 0 });
    expect(await scrape()).not.toContain('gpt-4\ufffd');
  });

  it('never double counts: a flush applied before the delete stays applied once', async () => {
    const stub = metricsShard(env, 2);
    const failures = (value: number): MetricsFlush['deltas'][number] => ({
      kind: 'counter',
      name: 'rate_limit_failures_total',
      labels: { mode: 'maint-mode' },
      value,
    });
    const f = flush('before-delete', [failures(3)]);
    expect((await stub.ingest(f)).applied).toBe(true);
    expect(sample(await scrape(), 'rate_limit_failures_total', { mode: 'maint-mode' })).toBe(3);
    const match = { family: 'rate_limit_failures_total', labels: { mode: 'maint-mode' } };
    expect((await deleteSeries(match)).body).toMatchObject({ matched: 1 });
    // A retry of the same flush is still recognised; new increments start a fresh series.
    expect((await stub.ingest(f)).applied).toBe(false);
    await stub.ingest(flush('after-delete', [failures(2)]));
    expect(sample(await scrape(), 'rate_limit_failures_total', { mode: 'maint-mode' })).toBe(2);
  });

  it.each([
    ['no family and no label', {}, '/'],
    ['an unknown family', { family: 'nope_total' }, '/family'],
    ['a gauge (computed, never stored)', { family: 'async_logger_queue_size' }, '/family'],
    [
      'a label the family lacks',
      { family: 'requests_total', labels: { model: 'x' } },
      '/labels/model',
    ],
    ['an unknown field', { family: 'requests_total', everything: true }, '/'],
  ])('refuses %s with a 400 naming the field', async (_what, body, path) => {
    const r = await deleteSeries(body);
    expect(r.status).toBe(400);
    expect((r.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
  });

  it('requires ADMIN_TOKEN', async () => {
    expect((await deleteSeries({ family: 'requests_total' }, 'wrong')).status).toBe(401);
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text 0.0.4 by default', async () => {
    const { res, body: text } = await call('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# TYPE requests_total counter\n');
    expect(text).toMatch(/^async_logger_queue_maxsize 1000$/m);
    expect(text).not.toContain('# EOF');
  });

  it('serves OpenMetrics 1.0 to a scraper that asks for it', async () => {
    const accept =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const { res, body: text } = await call('/metrics', { headers: { Accept: accept } });
    expect(res.headers.get('Content-Type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    expect(text).toContain('# TYPE requests counter\n');
    expect(text).toMatch(/^requests_total\{/m);
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('carries a request’s trace id from its isolate through the METRICS objects to an OpenMetrics exemplar, counts unchanged', async () => {
    const { key } = await newKey();
    await settleMetrics();
    const accept = { Accept: 'application/openmetrics-text; version=1.0.0' };
    const before = await scrape(accept);
    const traceIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const traceId = crypto.randomUUID().replace(/-/g, '');
      traceIds.push(traceId);
      const { res, done } = await call('/v1/check', {
        ...checkInit(key, { model: 'gpt-4', operation: 'chat', input: 'hi' }),
        headers: {
          ...(checkInit(key, {}).headers as Record<string, string>),
          traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        },
      });
      expect(res.status).toBe(200);
      await done;
    }
    await settleMetrics();
    const text = await scrape(accept);
    const exemplars = [
      ...text.matchAll(
        /^(\w+_bucket)\{([^}]*)\} (\d+) # \{trace_id="([0-9a-f]{32})"\} (\S+) (\S+)$/gm,
      ),
    ];
    const mine = exemplars.filter((m) => traceIds.includes(m[4]!));
    // The newest request's id is on a /v1/check latency bucket and on every stage's bucket.
    const last = traceIds.at(-1)!;
    const where = mine
      .filter((m) => m[4] === last)
      .map((m) => `${m[1]}{${m[2]!.replace(/,?le="[^"]*"/, '')}}`);
    expect(where).toEqual(
      expect.arrayContaining([
        'request_latency_ms_bucket{endpoint="/v1/check"}',
        ...['rate_limit', 'validation', 'scoring', 'logging'].map(
          (stage) => `governance_check_latency_ms_bucket{stage="${stage}"}`,
        ),
      ]),
    );
    for (const m of mine) {
      const le = /le="([^"]+)"/.exec(m[2]!)![1]!;
      expect(Number(m[5])).toBeLessThanOrEqual(le === '+Inf' ? Infinity : Number(le));
      expect(Math.abs(Number(m[6]) * 1000 - Date.now())).toBeLessThan(5 * 60_000);
    }
    // Exemplars change no count: the three requests are counted exactly.
    expect(delta(before, text, 'request_latency_ms_count', { endpoint: '/v1/check' })).toBe(3);
    // And the 0.0.4 format has none.
    expect(await scrape()).not.toContain(' # {');
  });

  it('is documented in /openapi.json with both media types', async () => {
    const { body } = await call('/openapi.json');
    const doc = JSON.parse(body) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: object }> } }>;
    };
    const content = doc.paths['/metrics']?.get?.responses['200']?.content ?? {};
    expect(Object.keys(content)).toEqual([
      'text/plain; version=0.0.4; charset=utf-8',
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    ]);
  });

  it('fails the whole scrape with 503 when a shard cannot be read', async () => {
    const broken = {
      idFromName: (name: string) => env.METRICS.idFromName(name),
      get: (id: DurableObjectId) => ({
        snapshot: async () => {
          if (id.equals(env.METRICS.idFromName('metrics-2'))) throw new Error('overloaded');
          return env.METRICS.get(id).snapshot();
        },
        ingest: (f: MetricsFlush) => env.METRICS.get(id).ingest(f),
      }),
    } as unknown as Env['METRICS'];
    const { res, body, done } = await call('/metrics', {}, { ...env, METRICS: broken });
    await done;
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect(JSON.parse(body)).toMatchObject({ status: 503 });
    expect(body).not.toContain('overloaded');
  });

  it('requires METRICS_TOKEN when it is set', async () => {
    const guarded = { ...env, METRICS_TOKEN: 'scrape-secret' };
    const none = await call('/metrics', {}, guarded);
    expect(none.res.status).toBe(401);
    expect(none.res.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    const wrong = await call('/metrics', { headers: { Authorization: 'Bearer nope' } }, guarded);
    expect(wrong.res.status).toBe(401);
    const ok = await call(
      '/metrics',
      { headers: { Authorization: 'Bearer scrape-secret' } },
      guarded,
    );
    expect(ok.res.status).toBe(200);
  });

  it('keeps the audit backlog ledger across shards, applies a flush once, and renders the gauge', async () => {
    await settleMetrics();
    // A bucket (minute) of its own, so traffic of other tests in this isolate cannot interfere.
    const mine = Math.floor(Date.now() / 60_000) + 7;
    const ledger = async () =>
      (await Promise.all([0, 1, 2, 3].map((i) => metricsShard(env, i).backlog())))
        .flat()
        .filter((r) => r.bucket === mine);
    await metricsShard(env, 1).ingest({
      ...flush('b1', []),
      backlog: [{ bucket: mine, sent: 10, resolved: 0 }],
    });
    await metricsShard(env, 2).ingest({
      ...flush('b2', []),
      backlog: [{ bucket: mine, sent: 0, resolved: 4 }],
    });
    expect(backlogGauge(await ledger(), Date.now())).toBe(6);
    // A retried flush is applied once.
    await metricsShard(env, 1).ingest({
      ...flush('b1', []),
      backlog: [{ bucket: mine, sent: 10, resolved: 0 }],
    });
    expect(backlogGauge(await ledger(), Date.now())).toBe(6);
    // Malformed ledger entries are not stored.
    await metricsShard(env, 3).ingest({
      ...flush('b3', []),
      backlog: [{ bucket: mine, sent: -5, resolved: 0 } as never],
    });
    expect(backlogGauge(await ledger(), Date.now())).toBe(6);
    const text = await scrape();
    expect(sample(text, 'async_logger_queue_size')).toBeGreaterThanOrEqual(6);
    await metricsShard(env, 0).ingest({
      ...flush('b5', []),
      backlog: [{ bucket: mine, sent: 0, resolved: 6 }],
    });
    expect(backlogGauge(await ledger(), Date.now())).toBe(0);
  });
});

describe('the response path', () => {
  it('answers while the METRICS object has not replied', async () => {
    await settleMetrics();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const slow = {
      idFromName: (name: string) => env.METRICS.idFromName(name),
      get: (id: DurableObjectId) => ({
        ingest: async (f: MetricsFlush) => {
          started++;
          await gate;
          return env.METRICS.get(id).ingest(f);
        },
      }),
    } as unknown as Env['METRICS'];
    const slowEnv = { ...env, METRICS: slow };
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(BASE + '/health'), slowEnv, ctx);
    expect(res.status).toBe(200);
    // The flush reaches the object and waits there; the response above did not wait for it.
    for (let i = 0; i < 100 && started === 0; i++) await scheduler.wait(1);
    expect(started).toBe(1);
    expect(flushIdle()).toBe(false);
    release();
    await waitOnExecutionContext(ctx);
    expect(flushIdle()).toBe(true);
  });
});
