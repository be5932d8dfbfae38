#!/usr/bin/env node
/**
 * Benchmark for Sentry reporting.
 *
 * 1. Response latency of a request that fails with a 500 (and is reported), in the real bundle
 *    (`wrangler deploy --dry-run`) on Miniflare/workerd, under four Sentry set-ups: no DSN, a
 *    local sink that answers at once, a sink that answers after 2 s, and a DSN whose port has
 *    nothing listening. Reporting runs in waitUntil, so the latencies should match.
 *    The 500 comes from a real dependency failure: D1 without migrations ("no such table").
 * 2. The cost of scrubbing one realistic event (src/observability/scrub.ts, bundled with esbuild).
 *
 * Usage: npm run bench:sentry [-- --requests 400]
 */
import { createServer } from 'node:http';
import path from 'node:path';
import {
  bundleWorker,
  cli,
  importSource,
  percentile,
  run,
  startWorker,
  workDir,
} from './lib/harness.mjs';

const { values: opts } = cli({
  usage: 'npm run bench:sentry [-- options]',
  summary:
    'Latency of a reported 500 in the real bundle on Miniflare/workerd under four Sentry set-ups ' +
    '(no DSN, a fast sink, a 2 s sink, nothing listening), and the cost of scrubbing one event. ' +
    'Writes nothing.',
  options: { requests: { type: 'number', default: 400, help: 'requests per scenario' } },
});
const N = opts.requests;
const WARMUP = 50;
const work = workDir('vakt-bench-sentry-');

async function startSink(delayMs) {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      setTimeout(() => res.writeHead(200).end('{}'), delayMs);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    received: () => received,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

async function unusedPort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startScenario(name, scriptPath, dsn) {
  const { mf, dispose } = await startWorker({
    scriptPath,
    vakt: true,
    migrate: false, // no tables: the key lookup fails → 500 → report
    bindings: { ENVIRONMENT: 'bench', RELEASE: 'bench', ...(dsn ? { SENTRY_DSN: dsn } : {}) },
  });
  const times = [];
  return {
    name,
    times,
    async request(record) {
      const t = performance.now();
      const res = await mf.dispatchFetch('http://vakt.local/v1/check', {
        method: 'POST',
        headers: { Authorization: 'Bearer vakt_bench', 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input: 'hello' }),
      });
      await res.arrayBuffer();
      if (record) times.push(performance.now() - t);
      if (res.status !== 500) throw new Error(`${name}: expected 500, got ${res.status}`);
    },
    dispose,
  };
}

async function scrubBench() {
  const { createScrubber, scrubEvent } = await importSource(
    `export * from './src/observability/scrub.ts';`,
  );
  const scrub = createScrubber(['admin-token-for-bench']);
  const frames = Array.from({ length: 12 }, (_, i) => ({
    filename: 'index.js',
    function: `fn${i}`,
    lineno: 100 + i,
    colno: 7,
    in_app: true,
  }));
  const makeEvent = () => ({
    exception: {
      values: [
        {
          type: 'Error',
          value:
            'D1_ERROR: insert failed: fnr 01010012356, mail kari@example.no, card 4111 1111 1111 1111',
          stacktrace: { frames: structuredClone(frames) },
        },
      ],
    },
    tags: {
      route: '/v1/check',
      method: 'POST',
      request_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    },
    request: { method: 'POST', url: 'https://vakt.example/v1/check?x=1', headers: { a: 'b' } },
    extra: { component: 'audit_consumer', batch_size: 3 },
    contexts: {
      trace: { trace_id: '9e52c81509c24113b282e542338eb34b', span_id: 'ad0620b6a298c05b' },
    },
  });
  const iterations = 20_000;
  for (let i = 0; i < 2000; i++) scrubEvent(makeEvent(), scrub);
  let t = performance.now();
  for (let i = 0; i < iterations; i++) makeEvent();
  const base = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < iterations; i++) scrubEvent(makeEvent(), scrub);
  const total = performance.now() - t;
  const perEvent = ((total - base) / iterations) * 1000; // µs per event

  // Adversarial strings at the scrubber's length cap: the cost must stay linear.
  const n = 8192;
  const adversarial = {
    'no @, letters': 'x'.repeat(n),
    'one @ at the end': 'a'.repeat(n - 1) + '@',
    'a@ repeated': 'a@'.repeat(n / 2),
    'digits then a letter': '1'.repeat(n - 1) + 'a',
    'spaced digits': '1 '.repeat(n / 2),
    'planted values repeated': 'kari@example.no 4111 1111 1111 1111 '.repeat(Math.floor(n / 37)),
  };
  const worst = {};
  for (const [name, text] of Object.entries(adversarial)) {
    for (let i = 0; i < 3; i++) scrub(text);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) scrub(text);
    worst[name] = (performance.now() - t0) / 20;
  }
  return { perEvent, worst };
}

run(async () => {
  const script = bundleWorker(path.join(work, 'dist'));
  const fast = await startSink(0);
  const slow = await startSink(2000);
  const dead = await unusedPort();
  const scenarios = [
    await startScenario('no SENTRY_DSN', script, undefined),
    await startScenario('sink answers at once', script, `http://k@127.0.0.1:${fast.port}/1`),
    await startScenario('sink answers after 2 s', script, `http://k@127.0.0.1:${slow.port}/1`),
    await startScenario('nothing listening', script, `http://k@127.0.0.1:${dead}/1`),
  ];
  // Interleaved rounds, so machine noise hits every scenario alike.
  for (let i = 0; i < WARMUP + N; i++) {
    for (const s of scenarios) await s.request(i >= WARMUP);
  }
  const results = scenarios.map((s) => {
    return { name: s.name, p50: percentile(s.times, 50), p95: percentile(s.times, 95) };
  });
  for (const s of scenarios) await s.dispose();
  const base = results[0].p50;
  console.log(
    `500 responses, ${N} requests per scenario in interleaved rounds (after ${WARMUP} warm-up)`,
  );
  console.log('scenario                  p50 ms   p95 ms   p50 / no-DSN p50');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(24)} ${r.p50.toFixed(2).padStart(7)} ${r.p95.toFixed(2).padStart(8)}   ${(r.p50 / base).toFixed(2)}`,
    );
  }
  console.log(`envelopes received: at once ${fast.received()}, after 2 s ${slow.received()}`);
  const { perEvent, worst } = await scrubBench();
  console.log(`scrubEvent on a realistic 500 event: ${perEvent.toFixed(1)} µs/event`);
  console.log('scrubbing one 8 KiB adversarial string (ms):');
  for (const [name, ms] of Object.entries(worst))
    console.log(`  ${name.padEnd(26)} ${ms.toFixed(2)}`);
  await fast.close();
  await slow.close();
});
