#!/usr/bin/env node
// Benchmark: audit events per second the vakt-audit consumer writes to local D1.
//
//   npm run bench:audit [-- --events 10000]
//
// Bundles bench/audit-worker.js (the production queue handler, src/audit/handlers.ts, plus a
// timing probe) with wrangler, runs it in Miniflare/workerd with vakt's bindings and queue
// settings from wrangler.toml and a file-backed local D1 (the storage `wrangler dev` uses), then
// 1. times the handler writing consecutive batches of max_batch_size (and other sizes for
//    comparison) — measured inside workerd, so no Node↔workerd round trip is in the interval;
// 2. sends events through the real local queue and times until every row is in D1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bundleWorker,
  cli,
  machine,
  ROOT as root,
  run,
  startWorker,
  workDir,
} from './lib/harness.mjs';

const { values: opts } = cli({
  usage: 'npm run bench:audit [-- options]',
  summary:
    'Audit events per second the vakt-audit consumer writes to local D1, in Miniflare/workerd ' +
    'with the queue settings of wrangler.toml: the handler alone, then through the real local ' +
    'queue. Writes nothing.',
  options: { events: { type: 'number', default: 10_000, help: 'events per case' } },
});
const perCase = opts.events;
const work = workDir('vakt-bench-audit-');

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

run(async () => {
  const { mf, dispose } = await startWorker({
    scriptPath: bundleWorker(path.join(work, 'dist'), 'bench/audit-worker.js'),
    vakt: true,
    bindings: { ENVIRONMENT: 'bench' },
    persistDir: path.join(work, 'state'),
  });
  try {
    const probe = async (query) => {
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
    await probe(`?size=${batchSize}&n=1000`);

    const rows = [];
    const add = (label, r) => rows.push({ label, ...r, rate: (r.n / r.ms) * 1000 });
    add(
      `handler, batch ${batchSize} (configured)`,
      check(await probe(`?size=${batchSize}&n=${perCase}`), perCase),
    );
    add(
      `handler, batch ${batchSize}, all duplicates (redelivery)`,
      check(await probe(`?size=${batchSize}&n=${perCase}&duplicates=1`), 0),
    );
    for (const size of [1, 10, 100]) {
      const n = size === 1 ? Math.min(perCase, 2000) : perCase;
      add(`handler, batch ${size}`, check(await probe(`?size=${size}&n=${n}`), n));
    }
    add(
      `local queue end to end (max_batch_size ${batchSize}, max_batch_timeout ${batchTimeout} s)`,
      check(await probe(`e2e?n=${perCase}`), perCase),
    );

    console.log(`\naudit consumer → local D1 · ${machine()}`);
    console.log('| case | events | new rows | ms | events/s |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.label} | ${r.n} | ${r.rows} | ${r.ms} | ${Math.round(r.rate)} |`);
    }
  } finally {
    await dispose();
  }
});
