#!/usr/bin/env node
// Benchmark of the rate limiter. Two parts, each reported as a ratio within one run:
// 1. In Node: the pure parts (GCRA decision, deny-cache lookup) in ns/op.
// 2. In workerd (Miniflare, same runtime as the tests): `checkRateLimit` for a key that is over
//    quota, answered by its RATE_LIMITER object (deny cache off) vs by the deny cache, and for
//    admitted requests (always the object). Timed from Node around a loop run inside one request,
//    because workerd's clocks do not advance during pure computation.
// Usage: npm run bench:rate-limit
import path from 'node:path';
import { bundleSource, cli, importSource, run, startWorker, workDir } from './lib/harness.mjs';

cli({
  usage: 'npm run bench:rate-limit',
  summary:
    'The rate limiter: GCRA decision and deny-cache lookup in Node (ns/op), and checkRateLimit in ' +
    'workerd for an over-quota key answered by its object vs by the deny cache, and for admitted ' +
    'requests. Writes nothing.',
  options: {},
});

run(async () => {
  await pure();
  await workerd();
  console.log(`\nnode ${process.version}, ${process.arch}`);
});

function bench(name, n, fn) {
  for (let i = 0; i < n / 10; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(52)} ${ns.toFixed(1).padStart(10)} ns/op`);
  return ns;
}

async function pure() {
  const { gcra, DenyCache } = await importSource(
    `export * from './src/rate-limit/gcra.ts'; export * from './src/rate-limit/deny-cache.ts';`,
  );
  console.log('Node, pure functions');
  const N = 1_000_000;
  const T0 = 1_764_000_000_000;
  const rule = { limit: 60, window_s: 60 };
  let state = null;
  bench('gcra: admitted (60/60 s, state carried)', N, (i) => {
    state = gcra(rule, state, T0 + i).state;
  });
  let full = null;
  for (let i = 0; i < 60; i++) full = gcra(rule, full, T0).state;
  bench('gcra: denied (bucket empty)', N, () => gcra(rule, full, T0));
  bench('gcra: rule changed (BigInt conversion)', N, () =>
    gcra({ limit: 7, window_s: 3600 }, full, T0),
  );
  const cache = new DenyCache();
  const denied = { allowed: false, limit: 60, remaining: 0, reset_s: 1, retry_after_s: 1 };
  const keys = Array.from({ length: 10_000 }, () => crypto.randomUUID());
  for (const k of keys) cache.record(k, rule, denied, T0);
  bench('deny cache: hit among 10 000 keys', N, (i) => cache.get(keys[i % 10_000], rule, T0 + 10));
}

async function workerd() {
  const scriptPath = await bundleSource({
    outfile: path.join(workDir(), 'rate-limit-probe.mjs'),
    contents: `
    import { checkRateLimit } from './src/rate-limit/index.ts';
    import { DenyCache } from './src/rate-limit/deny-cache.ts';
    export { RateLimiter } from './src/rate-limit/rate-limiter.ts';
    const rule = { limit: 5, window_s: 3600 };
    const roomy = { limit: 1000000, window_s: 86400 };
    export default {
      async fetch(request, env) {
        const url = new URL(request.url);
        const n = Number(url.searchParams.get('n'));
        const mode = url.searchParams.get('mode');
        // 'object': a cache whose entries expire at once, so every call reaches the object.
        const cache = mode === 'cache' ? new DenyCache() : new DenyCache(10, 0);
        let allowed = 0;
        for (let i = 0; i < n; i++) {
          // 'admit': one key with a roomy quota, so every call is admitted — by the object with
          // one write each (leases off), or mostly from leases ('lease').
          const admit = mode === 'admit' || mode === 'lease';
          const key = { id: mode === 'lease' ? 'roomy-leased' : admit ? 'roomy' : 'hammer', version: null };
          const out = await checkRateLimit(env.RATE_LIMITER, key, admit ? roomy : rule, 'fail_open', {
            denyCache: cache,
            leaseMs: mode === 'lease' ? 1000 : 0,
          });
          if (out.decision.allowed) allowed++;
        }
        return Response.json({ allowed });
      },
    };`,
  });
  const { mf, dispose } = await startWorker({
    scriptPath,
    miniflare: {
      durableObjects: { RATE_LIMITER: { className: 'RateLimiter', useSQLite: true } },
    },
  });
  try {
    const run = async (mode, n) => {
      const t0 = process.hrtime.bigint();
      const res = await mf.dispatchFetch(`http://bench/?mode=${mode}&n=${n}`);
      const body = await res.json();
      return { us: Number(process.hrtime.bigint() - t0) / 1000 / n, ...body };
    };
    await run('object', 20); // exhaust the 'hammer' key and warm up
    await run('admit', 20);
    await run('lease', 200);
    console.log('\nworkerd (Miniflare), checkRateLimit per call');
    const N = 2000;
    const object = await run('object', N);
    const cached = await run('cache', N);
    const admit = await run('admit', N);
    const leased = await run('lease', N);
    const line = (name, r) =>
      console.log(
        `${name.padEnd(52)} ${r.us.toFixed(1).padStart(10)} µs/call  (allowed ${r.allowed})`,
      );
    line('denied, answered by the object', object);
    line('denied, answered by the deny cache', cached);
    line('admitted, answered by the object (SQLite write)', admit);
    line('admitted, mostly from a lease (1 s, no waitUntil)', leased);
    console.log(`object / deny cache = ${(object.us / cached.us).toFixed(0)}×`);
    console.log(`admitted: object / lease = ${(admit.us / leased.us).toFixed(0)}×`);
  } finally {
    await dispose();
  }
}
