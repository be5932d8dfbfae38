/**
 * Reliability: exactness under load, through the real local stack (SELF → Hono app → RATE_LIMITER
 * objects → AUDIT_QUEUE → audit consumer → D1, and metrics → METRICS objects → /metrics).
 *
 * Requests enter through `app.fetch` in the test's isolate (the pool's SELF hop costs ~50 ms per
 * request here, which would make 2k requests take minutes); everything behind the app is real.
 *
 * One burst of 2,200 /v1/check requests (250 in flight at any moment) — allowed, redacted, blocked, and 200 on a key
 * limited to 25 — then:
 *   - audit rows == decisions: every response's decision_id has exactly one row, with the same
 *     outcome, and no other row exists for these keys (0 lost, 0 duplicated);
 *   - requests_total{endpoint="/v1/check"} == requests sent, per status;
 *   - governance counters and logs_* counters equal what the responses say;
 *   - the limited key was admitted exactly `limit` times.
 * The only wait is for the real queue to deliver (bounded poll), never a fixed sleep.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { app } from '../../src/app';
import { describe, expect, it } from 'vitest';
import { BASE, createKey } from './helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

const BULK = 2000;
const LIMITED = 200;
const LIMIT = 25;
const BULK_KEYS = 10;
/**
 * Requests in flight at once. With all 2,200 in flight, the local runtime's single thread cannot
 * get a RATE_LIMITER answer back within the limiter's 2 s timeout on a loaded 2-core box, and the
 * documented fail_open policy admits those requests uncounted (observed: dozens of
 * RateLimiterTimeoutError). 250 concurrent requests still race on every shared object.
 */
const IN_FLIGHT = 250;

/** Runs `jobs` with at most `limit` pending at a time; results in job order. */
async function inFlight<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

const INPUTS = [
  { kind: 'allowed', input: 'Summarise the quarterly report for the board, please.' },
  { kind: 'redacted', input: 'Send the minutes to kari.nordmann@example.no before Friday.' },
  { kind: 'blocked', input: 'Her fødselsnummer is 01010012356, please check.' },
] as const;

interface Decision {
  status: number;
  decisionId: string;
  allowed: boolean;
  outcome: 'allowed' | 'blocked' | 'rate_limited';
}

async function decide(key: string, input: string): Promise<Decision> {
  const ctx = createExecutionContext();
  const req = new Request(BASE + '/v1/check', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input }),
  });
  const res = await app.fetch(req, env, ctx);
  const body = (await res.json()) as { decision_id: string; allowed?: boolean };
  // The audit send and metrics flush run in waitUntil, as in production; the request is done
  // when they are.
  await waitOnExecutionContext(ctx);
  if (res.status === 200) {
    return {
      status: 200,
      decisionId: body.decision_id,
      allowed: body.allowed === true,
      outcome: body.allowed ? 'allowed' : 'blocked',
    };
  }
  return {
    status: res.status,
    decisionId: body.decision_id,
    allowed: false,
    outcome: 'rate_limited',
  };
}

function counter(text: string, name: string, labels: Record<string, string> = {}): number {
  return sample(text, name, labels) ?? 0;
}

/** Sum of a counter over every series whose labels include `match`. */
function sumWhere(text: string, name: string, match: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const ok = Object.entries(match).every(([k, v]) => line.includes(`${k}=${JSON.stringify(v)}`));
    if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('exactness under load', { timeout: 120_000 }, () => {
  it('2,200 decisions, 250 in flight: one audit row each, exact counters, exact quota', async () => {
    // Bulk traffic is spread over several keys, as real traffic is; one key with 2k requests in
    // flight queues them all on one RATE_LIMITER object, which on a loaded CI box can exceed the
    // limiter's timeout and (by design, fail_open) admit without counting — asserted below.
    const bulkKeys = await Promise.all(
      Array.from({ length: BULK_KEYS }, (_, i) =>
        createKey({
          name: `load-bulk-${i}`,
          policy: { rate_limit: { limit: 1_000_000, window_s: 1 } },
        }),
      ),
    );
    const limited = await createKey({
      name: 'load-limited',
      policy: { rate_limit: { limit: LIMIT, window_s: 86_400 } },
    });
    await settleMetrics();
    const before = await scrape();

    const started = Date.now();
    const jobs = [
      ...Array.from({ length: LIMITED }, () => () => decide(limited.key, INPUTS[0].input)),
      ...Array.from(
        { length: BULK },
        (_, i) => () => decide(bulkKeys[i % BULK_KEYS]!.key, INPUTS[i % 3]!.input),
      ),
    ];
    const decisions = await inFlight(jobs, IN_FLIGHT);
    const burstMs = Date.now() - started;
    console.log(`load: burst of ${BULK + LIMITED} took ${burstMs} ms`);

    // The responses themselves: every request decided, ids unique, quota exact.
    const ids = new Set(decisions.map((d) => d.decisionId));
    expect(ids.size).toBe(BULK + LIMITED);
    const limitedDecisions = decisions.slice(0, LIMITED);
    const bulkDecisions = decisions.slice(LIMITED);
    expect(bulkDecisions.every((d) => d.status === 200)).toBe(true);
    expect(limitedDecisions.filter((d) => d.status === 200)).toHaveLength(LIMIT);
    expect(limitedDecisions.filter((d) => d.status === 429)).toHaveLength(LIMITED - LIMIT);
    const expected = {
      allowed: decisions.filter((d) => d.outcome === 'allowed').length,
      blocked: decisions.filter((d) => d.outcome === 'blocked').length,
      rateLimited: decisions.filter((d) => d.outcome === 'rate_limited').length,
    };
    expect(expected.blocked).toBe(Math.floor(BULK / 3) + (BULK % 3 > 2 ? 1 : 0));

    // Audit: wait (bounded) for the real queue consumer to write every event.
    const keyIds = [limited.id, ...bulkKeys.map((k) => k.id)];
    const inKeys = `api_key_id IN (${keyIds.map(() => '?').join(', ')})`;
    const countRows = async () =>
      (await env.DB.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE ${inKeys}`)
        .bind(...keyIds)
        .first<{ n: number }>())!.n;
    let rows = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      rows = await countRows();
      if (rows >= ids.size) break;
      await scheduler.wait(100);
    }
    expect(rows, 'audit rows for the burst').toBe(ids.size);
    console.log(`load: audit rows complete after ${Date.now() - started} ms`);

    const { results } = await env.DB.prepare(
      `SELECT decision_id, allowed, outcome FROM audit_log WHERE ${inKeys}`,
    )
      .bind(...keyIds)
      .all<{ decision_id: string; allowed: number; outcome: string }>();
    const byId = new Map(results.map((r) => [r.decision_id, r]));
    expect(byId.size, 'no duplicate rows').toBe(results.length);
    for (const d of decisions) {
      const row = byId.get(d.decisionId);
      expect(row, `audit row for ${d.decisionId}`).toBeDefined();
      expect(row!.outcome).toBe(d.outcome);
      expect(row!.allowed).toBe(d.allowed ? 1 : 0);
    }
    const deadLetters = await env.DB.prepare('SELECT COUNT(*) AS n FROM audit_dead_letters').first<{
      n: number;
    }>();
    expect(deadLetters!.n).toBe(0);

    // Metrics: after every isolate flush has landed, the deltas equal what was sent.
    await settleMetrics();
    const after = await scrape();
    console.log(`load: metrics settled after ${Date.now() - started} ms`);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      counter(after, name, labels) - counter(before, name, labels);
    // Exactness presumes the limiter answered every request (no fail_open admissions).
    expect(
      sumWhere(after, 'rate_limit_failures_total', {}) -
        sumWhere(before, 'rate_limit_failures_total', {}),
      'rate limiter failures during the burst',
    ).toBe(0);
    const check = { method: 'POST', endpoint: '/v1/check' };
    expect(delta('requests_total', { ...check, status: '200' })).toBe(BULK + LIMIT);
    expect(delta('requests_total', { ...check, status: '429' })).toBe(LIMITED - LIMIT);
    expect(
      sumWhere(after, 'requests_total', check) - sumWhere(before, 'requests_total', check),
      'requests_total == requests sent',
    ).toBe(BULK + LIMITED);
    expect(
      sumWhere(after, 'governance_allowed_total', {}) -
        sumWhere(before, 'governance_allowed_total', {}),
    ).toBe(expected.allowed);
    expect(
      sumWhere(after, 'governance_blocked_total', { reason: 'contains_personal_data' }) -
        sumWhere(before, 'governance_blocked_total', { reason: 'contains_personal_data' }),
    ).toBe(expected.blocked);
    expect(delta('rate_limit_hits_total', { api_key_id: limited.id })).toBe(LIMITED - LIMIT);
    expect(delta('logs_queued_total')).toBe(BULK + LIMITED);
    expect(delta('logs_written_total')).toBe(BULK + LIMITED);
    expect(delta('logs_dropped_total')).toBe(0);
    expect(counter(after, 'async_logger_queue_size')).toBe(0);

    console.log(
      `load: ${BULK + LIMITED} decisions (${IN_FLIGHT} in flight) in ${burstMs} ms; audit complete after ${Date.now() - started} ms`,
    );
  });
});
