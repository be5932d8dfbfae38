// Benchmark entry for bench/audit.mjs (not deployed): times the production audit queue
// handler (src/audit/handlers.ts → consumer.ts) inside workerd against the local D1 binding, so
// no Node↔workerd round trip is inside the measured interval.
import { handleQueue } from '../src/audit/handlers';

export { Metrics } from '../src/metrics/metrics-object';
export { RateLimiter } from '../src/rate-limit/rate-limiter';

const REASONS = [[], [], ['contains_personal_data'], ['contains_secret', 'contains_personal_data']];
let seq = 0;

function event() {
  const i = seq++;
  const reasons = REASONS[i % REASONS.length];
  return {
    v: 1,
    decision_id: crypto.randomUUID(),
    ts: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
    request_id: crypto.randomUUID(),
    api_key_id: '11111111-1111-4111-8111-11111111111' + (i % 10),
    model: 'gpt-4o',
    operation: 'classify',
    allowed: reasons.length === 0,
    outcome: reasons.length === 0 ? 'allowed' : 'blocked',
    reasons,
    finding_counts: reasons.length ? { no_fodselsnummer: 1, email: 2 } : {},
    policy_version: 'b3f1c2d4e5a6',
    input_chars: 120 + (i % 400),
    input_sha256: 'ab'.repeat(32),
    latency_ms: 1.5,
    metadata: { user_ref: `u-${i % 1000}`, tenant: 'acme' },
  };
}

/** A MessageBatch as the runtime hands it to queue(); counts acks and retries. */
function batchOf(bodies, tally) {
  return {
    queue: 'vakt-audit',
    messages: bodies.map((body) => ({
      id: crypto.randomUUID(),
      timestamp: new Date(),
      attempts: 1,
      body,
      ack: () => tally.acked++,
      retry: () => tally.retried++,
    })),
    ackAll: () => (tally.acked += bodies.length),
    retryAll: () => (tally.retried += bodies.length),
  };
}

const count = async (env) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM audit_log').first()).n;

/** Sends n events through AUDIT_QUEUE and waits (bounded) until the consumer has written them. */
async function endToEnd(env, n) {
  const bodies = Array.from({ length: n }, event);
  const before = await count(env);
  const started = Date.now();
  for (let i = 0; i < n; i += 100) {
    await env.AUDIT_QUEUE.sendBatch(
      bodies.slice(i, i + 100).map((body) => ({ body, contentType: 'json' })),
    );
  }
  const sentMs = Date.now() - started;
  const deadline = started + 300_000;
  while ((await count(env)) - before < n) {
    if (Date.now() > deadline) throw new Error('queue did not drain within 300 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { n, ms: Date.now() - started, sentMs, rows: (await count(env)) - before };
}

export default {
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),

  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/e2e')
      return Response.json(await endToEnd(env, Number(url.searchParams.get('n'))));
    const size = Number(url.searchParams.get('size'));
    const n = Number(url.searchParams.get('n'));
    const duplicates = url.searchParams.get('duplicates') === '1';
    const bodies = Array.from({ length: n }, event);
    if (duplicates) {
      // Write them once first; the timed run is then pure redelivery.
      for (let i = 0; i < n; i += size)
        await handleQueue(batchOf(bodies.slice(i, i + size), { acked: 0, retried: 0 }), env, ctx);
    }
    const before = await count(env);
    const tally = { acked: 0, retried: 0 };
    const started = Date.now();
    for (let i = 0; i < n; i += size) {
      await handleQueue(batchOf(bodies.slice(i, i + size), tally), env, ctx);
    }
    const ms = Date.now() - started;
    return Response.json({
      size,
      n,
      ms,
      acked: tally.acked,
      retried: tally.retried,
      rows: (await count(env)) - before,
    });
  },
};
