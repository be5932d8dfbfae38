#!/usr/bin/env node
// Benchmark: audit events per second the vakt-audit consumer writes to local D1.
//
//   node scripts/bench-audit.mjs [--events 10000]
//
// Bundles scripts/bench-audit-worker.js (the production queue handler, src/audit/handlers.ts,
// plus a timing harness) with wrangler, runs it in Miniflare/workerd with a file-backed local D1
// (the storage `wrangler dev` uses) and the queue settings of wrangler.toml, then
// 1. times the handler writing consecutive batches of max_batch_size (and other sizes for
//    comparison) — measured inside workerd, so no Node↔workerd round trip is in the interval;
// 2. sends events through the real local queue and times until every row is in D1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { cli } from './lib/cli.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values: opts } = cli({
  usage: 'node scripts/bench-audit.mjs [options]',
  summary:
    'Audit events per second the vakt-audit consumer writes to local D1, in Miniflare/workerd ' +
    'with the queue settings of wrangler.toml: the handler alone, then through the real local ' +
    'queue. Writes nothing.',
  options: { events: { type: 'number', default: 10_000, help: 'events per case' } },
});
const perCase = opts.events;
const work = mkdtempSync(path.join(tmpdir(), 'vakt-bench-audit-'));
const env = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
};

// The consumer settings under test come from wrangler.toml itself.
const toml = readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
const auditConsumer = toml
  .split(/^\[\[queues\.consumers\]\]\s*$/m)
  .slice(1)
  .map((b) =>
    Object.fromEntries(
      [...b.matchAll(/^(\w+)\s*=\s*"?([^"\n#]+?)"?\s*$/gm)].map((m) => [m[1], m[2]]),
    ),
  )
  .find((c) => c.queue === 'vakt-audit');
const batchSize = Number(auditConsumer.max_batch_size);
const batchTimeout = Number(auditConsumer.max_batch_timeout);

const dist = path.join(work, 'dist');
execFileSync(
  'npx',
  ['wrangler', 'deploy', '--dry-run', '--outdir', dist, 'scripts/bench-audit-worker.js'],
  { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] },
);

const mf = new Miniflare({
  modules: true,
  scriptPath: path.join(dist, 'bench-audit-worker.js'),
  modulesRoot: dist,
  compatibilityDate: '2026-04-26',
  compatibilityFlags: ['nodejs_compat'],
  d1Databases: { DB: 'vakt-bench' },
  d1Persist: path.join(work, 'd1'),
  durableObjects: {
    RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
    METRICS: { className: 'Metrics', useSQLite: true },
  },
  durableObjectsPersist: path.join(work, 'do'),
  queueProducers: { AUDIT_QUEUE: { queueName: 'vakt-audit' } },
  queueConsumers: {
    'vakt-audit': {
      maxBatchSize: batchSize,
      maxBatchTimeout: batchTimeout,
      maxRetries: Number(auditConsumer.max_retries),
      retryDelay: Number(auditConsumer.retry_delay),
      deadLetterQueue: auditConsumer.dead_letter_queue,
    },
  },
  bindings: { ENVIRONMENT: 'bench' },
});

try {
  const db = await mf.getD1Database('DB');
  for (const file of readdirSync(path.join(root, 'migrations')).sort()) {
    const sql = readFileSync(path.join(root, 'migrations', file), 'utf8').replace(/--[^\n]*/g, '');
    for (const stmt of sql
      .split(/;\s*$/m)
      .map((s) => s.trim())
      .filter(Boolean)) {
      await db.prepare(stmt).run();
    }
  }

  const run = async (query) => {
    const res = await mf.dispatchFetch(`http://bench/${query}`);
    if (!res.ok) throw new Error(`${query}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const check = (r, expectRows) => {
    if (r.rows !== expectRows || (r.acked !== undefined && (r.acked !== r.n || r.retried)))
      throw new Error(`unexpected result ${JSON.stringify(r)}`);
    return r;
  };

  // Warm-up: JIT, SQLite page cache, the first D1 connection.
  await run(`?size=${batchSize}&n=1000`);

  const rows = [];
  const add = (label, r) => rows.push({ label, ...r, rate: (r.n / r.ms) * 1000 });
  add(
    `handler, batch ${batchSize} (configured)`,
    check(await run(`?size=${batchSize}&n=${perCase}`), perCase),
  );
  add(
    `handler, batch ${batchSize}, all duplicates (redelivery)`,
    check(await run(`?size=${batchSize}&n=${perCase}&duplicates=1`), 0),
  );
  for (const size of [1, 10, 100]) {
    const n = size === 1 ? Math.min(perCase, 2000) : perCase;
    add(`handler, batch ${size}`, check(await run(`?size=${size}&n=${n}`), n));
  }
  add(
    `local queue end to end (max_batch_size ${batchSize}, max_batch_timeout ${batchTimeout} s)`,
    check(await run(`e2e?n=${perCase}`), perCase),
  );

  console.log(
    `\naudit consumer → local D1 · node ${process.version} · ${cpus().length} cores · ${cpus()[0]?.model}`,
  );
  console.log('| case | events | new rows | ms | events/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.label} | ${r.n} | ${r.rows} | ${r.ms} | ${Math.round(r.rate)} |`);
  }
} finally {
  await mf.dispose();
  rmSync(work, { recursive: true, force: true });
}
