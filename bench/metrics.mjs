#!/usr/bin/env node
// Benchmark for the metrics box:
//  1. /metrics render time for ~10k series: vakt's merge + render (the work GET /metrics does
//     after reading the shards) against prom-client's `registry.metrics()` holding the same
//     series, in one process and one run.
//  2. The cost one /v1/check pays for metrics: the records it makes plus the flush call, which
//     does no I/O on the response path (the flush runs in waitUntil).
// Usage: npm run bench:metrics [-- --iterations 50]. prom-client is a benchmark-only peer,
// outside the default install: `npm run bench:install`.
import { performance } from 'node:perf_hooks';
import { cli, importSource, median, percentile } from './lib/harness.mjs';

const { values: opts } = cli({
  usage: 'npm run bench:metrics [-- options]',
  summary:
    "Times vakt's /metrics merge + render for ~10k series against prom-client's registry with the " +
    'same series, and the metrics cost one /v1/check pays. Needs the benchmark peers ' +
    '(`npm run bench:install`). Writes nothing.',
  options: { iterations: { type: 'number', default: 100, help: 'timed renders per side' } },
});
const ITERATIONS = opts.iterations;

let client;
try {
  client = (await import('prom-client')).default;
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  console.error(
    'bench:metrics compares with prom-client; install the peers: npm run bench:install',
  );
  process.exit(2);
}

// The pure TypeScript modules, bundled once (the same code the Worker runs).
const vakt = await importSource(`
  export { SeriesTable, mergeSnapshots } from './src/metrics/aggregate.ts';
  export { renderExposition } from './src/metrics/exposition.ts';
  export { MetricsRecorder } from './src/metrics/recorder.ts';
  export { METRIC_DEFINITIONS } from './src/metrics/definitions.ts';
`);

// ---- The same series in both ----------------------------------------------------------------
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ENDPOINTS = Array.from({ length: 100 }, (_, i) => `/route/${i}/{id}`);
const STATUSES = ['200', '201', '204', '400', '401', '404', '429', '500'];
const MODELS = Array.from({ length: 100 }, (_, i) => `gpt-4-variant-${i}`);
const OPERATIONS = Array.from({ length: 11 }, (_, i) => `op_${i}`);
const REASONS = ['contains_personal_data', 'model_not_allowed'];
const KEYS = Array.from(
  { length: 1000 },
  (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
);
const STAGES = ['rate_limit', 'validation', 'scoring', 'logging'];

/** Calls `inc(name, labels, value)` / `observe(name, labels, ms)` for every series. */
function populate(inc, observe) {
  let n = 0;
  for (const method of METHODS)
    for (const endpoint of ENDPOINTS)
      for (const status of STATUSES)
        inc('requests_total', { method, endpoint, status }, 1 + (n++ % 97));
  for (const model of MODELS)
    for (const operation of OPERATIONS) {
      inc('governance_allowed_total', { model, operation }, 1 + (n++ % 89));
      for (const reason of REASONS)
        inc('governance_blocked_total', { model, operation, reason }, 1 + (n++ % 13));
    }
  for (const api_key_id of KEYS) inc('rate_limit_hits_total', { api_key_id }, 1 + (n++ % 31));
  for (const endpoint of ENDPOINTS)
    for (let i = 0; i < 20; i++) observe('request_latency_ms', { endpoint }, (i * 37) % 3000);
  for (const stage of STAGES)
    for (let i = 0; i < 50; i++) observe('governance_check_latency_ms', { stage }, (i * 0.7) % 40);
  for (const name of ['logs_queued_total', 'logs_written_total', 'logs_dropped_total'])
    inc(name, {}, 5);
}

// vakt: record, apply into 4 shards (as the METRICS objects would), then merge + render.
const SHARDS = 4;
const tables = Array.from({ length: SHARDS }, () => new vakt.SeriesTable());
{
  const recorders = Array.from({ length: SHARDS }, () => new vakt.MetricsRecorder());
  let i = 0;
  populate(
    (name, labels, v) => recorders[i++ % SHARDS].inc(name, labels, v),
    (name, labels, v) => recorders[i++ % SHARDS].observe(name, labels, v),
  );
  for (const [s, r] of recorders.entries()) tables[s].commit(tables[s].plan(r.drain(), s).updates);
}
const snapshots = tables.map((t) => structuredClone(t.all())); // as received over RPC
const gauges = [
  { name: 'async_logger_queue_size', value: 0 },
  { name: 'async_logger_queue_maxsize', value: 1000 },
];
const vaktRender = () =>
  vakt.renderExposition(vakt.mergeSnapshots(snapshots), gauges, 'prometheus');

// prom-client: one registry with the same families and values.
const registry = new client.Registry();
const promMetrics = {};
for (const [name, def] of Object.entries(vakt.METRIC_DEFINITIONS)) {
  const common = { name, help: def.help, labelNames: [...def.labels], registers: [registry] };
  if (def.type === 'counter') promMetrics[name] = new client.Counter(common);
  else if (def.type === 'histogram')
    promMetrics[name] = new client.Histogram({ ...common, buckets: [...def.buckets] });
  else promMetrics[name] = new client.Gauge(common);
}
populate(
  (name, labels, v) => promMetrics[name].inc(labels, v),
  (name, labels, v) => promMetrics[name].observe(labels, v),
);
promMetrics.async_logger_queue_size.set(0);
promMetrics.async_logger_queue_maxsize.set(1000);
const promRender = () => registry.metrics();

const vaktText = vaktRender();
const promText = await promRender();
const children = vakt.mergeSnapshots(snapshots).length;
const sampleLines = (t) => t.split('\n').filter((l) => l && !l.startsWith('#')).length;

/**
 * Times both renderers interleaved (A, B, A, B, …) so machine noise hits both alike; with
 * --expose-gc each run starts from a collected heap and pays only for its own garbage.
 */
async function timeInterleaved(fns) {
  const runs = fns.map(() => []);
  for (let i = 0; i < ITERATIONS + 5; i++) {
    for (let f = 0; f < fns.length; f++) {
      globalThis.gc?.();
      const t0 = performance.now();
      await fns[f]();
      if (i >= 5) runs[f].push(performance.now() - t0); // first 5 are warm-up
    }
  }
  return runs.map((r) => ({ median: median(r), p90: percentile(r, 90), min: Math.min(...r) }));
}

if (process.env.BENCH_SPLIT) {
  const merged = vakt.mergeSnapshots(snapshots);
  const [m, r] = await timeInterleaved([
    () => vakt.mergeSnapshots(snapshots),
    () => vakt.renderExposition(merged, gauges, 'prometheus'),
  ]);
  console.log('merge', m, 'render', r);
}
const [v, p] = await timeInterleaved([vaktRender, promRender]);

// ---- Per-request recording cost ---------------------------------------------------------------
// What one allowed /v1/check records: requests_total, request_latency_ms, 4 stage latencies,
// governance_allowed_total. The flush call on the response path is a synchronous check of the
// leader flag (the leader's DO call runs in waitUntil), so it is not part of this cost.
const REQS = 200_000;
function perRequest(record) {
  for (let i = 0; i < 10_000; i++) record(i);
  const t0 = performance.now();
  for (let i = 0; i < REQS; i++) record(i);
  return ((performance.now() - t0) * 1e6) / REQS; // ns per request
}
const rec = new vakt.MetricsRecorder();
let drained = 0;
const vaktNs = perRequest((i) => {
  rec.inc('requests_total', { method: 'POST', endpoint: '/v1/check', status: '200' });
  rec.observe('request_latency_ms', { endpoint: '/v1/check' }, i % 40);
  for (const stage of STAGES) rec.observe('governance_check_latency_ms', { stage }, (i % 13) * 0.1);
  rec.inc('governance_allowed_total', { model: 'gpt-4', operation: 'chat' });
  // The group-commit leader drains the buffer roughly once per round trip; charge that here too.
  if (i % 50 === 0) drained += rec.drain().length;
});
const promNs = perRequest((i) => {
  promMetrics.requests_total.inc({ method: 'POST', endpoint: '/v1/check', status: '200' });
  promMetrics.request_latency_ms.observe({ endpoint: '/v1/check' }, i % 40);
  for (const stage of STAGES)
    promMetrics.governance_check_latency_ms.observe({ stage }, (i % 13) * 0.1);
  promMetrics.governance_allowed_total.inc({ model: 'gpt-4', operation: 'chat' });
});

const fmt = (n) => n.toFixed(2);
console.log(
  `machine: ${process.platform} ${process.arch}, Node ${process.version}, iterations ${ITERATIONS}`,
);
console.log(
  `series (label sets): ${children}; sample lines: vakt ${sampleLines(vaktText)}, prom-client ${sampleLines(promText)}`,
);
console.log(`exposition bytes: vakt ${vaktText.length}, prom-client ${promText.length}`);
console.log('');
console.log('| render of ~10k series | median ms | p90 ms | min ms |');
console.log('|---|---|---|---|');
console.log(
  `| vakt mergeSnapshots (4 shards) + renderExposition | ${fmt(v.median)} | ${fmt(v.p90)} | ${fmt(v.min)} |`,
);
console.log(
  `| prom-client registry.metrics() | ${fmt(p.median)} | ${fmt(p.p90)} | ${fmt(p.min)} |`,
);
console.log(`| ratio vakt / prom-client (median) | ${fmt(v.median / p.median)} | | |`);
console.log('');
console.log('| per /v1/check recording (7 records) | ns/request |');
console.log('|---|---|');
console.log(`| vakt MetricsRecorder (incl. amortised drain) | ${fmt(vaktNs)} |`);
console.log(`| prom-client (same records, for reference) | ${fmt(promNs)} |`);
if (drained === 0) throw new Error('recorder drained nothing');
if (v.median > p.median) {
  console.error('\nFAIL: vakt render is slower than prom-client for the same series');
  process.exitCode = 1;
}
