/**
 * The audit archive read the way docs/audit.md tells a BI user to: vakt bundled as it deploys
 * (`wrangler deploy --dry-run`), served by Miniflare (workerd with the local D1, Queue, R2 and
 * Durable Objects of wrangler.toml) and driven over HTTP; the R2 objects are then taken from the
 * local bucket (keys kept as paths) and a real DuckDB reads them with
 * `read_json(…, hive_partitioning = true)`, counting exactly the decisions sent. The same run
 * checks D1, the export and the packing counters end to end over HTTP. (The 10,000-decision
 * burst runs in-process: test/workers/audit-burst.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/stack';

const DECISIONS = 600;
const IN_FLIGHT = 32;
const KEYS = 4;
const ADMIN = 'burst-admin-token';

let mf: Miniflare | undefined;
let url: URL;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'vakt-burst-'));
  const out = path.join(work, 'dist');
  const r = spawnSync(
    path.join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', out],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
    },
  );
  if (r.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${r.stderr}`);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, 'wrangler.toml'));
  mf = new Miniflare({
    ...workerOptions,
    name: 'vakt',
    host: '127.0.0.1',
    port: 0,
    cf: false,
    modules: true,
    modulesRules: undefined,
    scriptPath: path.join(out, 'index.js'),
    modulesRoot: out,
    bindings: {
      ...workerOptions.bindings,
      ADMIN_TOKEN: ADMIN,
      AUDIT_HASH_KEY: 'burst-test-audit-hash-key-000000000000',
      ENVIRONMENT: 'test',
    },
  });
  url = await mf.ready;
  const db = await mf.getD1Database('DB');
  for (const file of readdirSync(path.join(ROOT, 'migrations')).sort()) {
    if (!file.endsWith('.sql')) continue;
    const sql = readFileSync(path.join(ROOT, 'migrations', file), 'utf8');
    for (const stmt of unstable_splitSqlQuery(sql)) await db.prepare(stmt).run();
  }
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function api(pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(new URL(pathname, url), init);
}

async function metric(name: string): Promise<number> {
  const text = await (await api('/metrics')).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function poll(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the audit archive in DuckDB', () => {
  it('DuckDB counts exactly the decisions sent; D1 and the export agree; nothing lost', async () => {
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const res = await api('/admin/keys', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          name: `burst-${i}`,
          policy: { rate_limit: { limit: 1_000_000, window_s: 1 } },
        }),
      });
      expect(res.status).toBe(201);
      keys.push(((await res.json()) as { key: string }).key);
    }
    const inputs = [
      'Summarise the quarterly report for the board, please.',
      'Send the minutes to kari.nordmann@example.no before Friday.',
      'Her fødselsnummer is 01010012356, please check.',
    ];
    const since = new Date(Date.now() - 1000).toISOString();
    const started = Date.now();
    const ids: string[] = new Array<string>(DECISIONS);
    let next = 0;
    const lane = async () => {
      while (next < DECISIONS) {
        const i = next++;
        const res = await api('/v1/check', {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${keys[i % KEYS]}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input: inputs[i % 3] }),
        });
        expect(res.status).toBe(200);
        ids[i] = ((await res.json()) as { decision_id: string }).decision_id;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    const burstMs = Date.now() - started;
    expect(new Set(ids).size).toBe(DECISIONS);

    // D1: exactly one row per decision once the consumer has caught up.
    const db = await mf!.getD1Database('DB');
    const rows = async () =>
      (await db.prepare('SELECT count(*) AS n FROM audit_log').first<{ n: number }>())!.n;
    await poll('audit rows', async () => (await rows()) >= DECISIONS, 60_000);
    const { results } = await db
      .prepare('SELECT count(*) AS n, count(DISTINCT decision_id) AS d FROM audit_log')
      .all<{ n: number; d: number }>();
    expect(results[0]).toEqual({ n: DECISIONS, d: DECISIONS });
    const stored = new Set(
      (
        await db.prepare('SELECT decision_id FROM audit_log').all<{ decision_id: string }>()
      ).results.map((r) => r.decision_id),
    );
    expect(ids.every((id) => stored.has(id))).toBe(true);
    const deadLetters = await db
      .prepare('SELECT count(*) AS n FROM audit_dead_letters')
      .first<{ n: number }>();
    expect(deadLetters!.n).toBe(0);
    const doneMs = Date.now() - started;

    // The export: one line per decision after dedup, in time order.
    const until = new Date(Date.now() + 1000).toISOString();
    const res = await api(`/admin/audit/export?since=${since}&until=${until}`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(res.status).toBe(200);
    const lines = (await res.text()).split('\n').filter(Boolean);
    const exported = lines.map((l) => JSON.parse(l) as { decision_id: string; ts: string });
    expect(exported).toHaveLength(DECISIONS);
    expect(new Set(exported.map((e) => e.decision_id))).toEqual(new Set(ids));
    for (let i = 1; i < exported.length; i++)
      expect(Date.parse(exported[i]!.ts)).toBeGreaterThanOrEqual(Date.parse(exported[i - 1]!.ts));

    // DuckDB over the objects taken from the local R2 bucket, keys kept as paths.
    const bucket = await mf!.getR2Bucket('AUDIT_ARCHIVE');
    const dir = path.join(work, 'r2');
    let objects = 0;
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix: 'audit/v1/', cursor });
      for (const o of page.objects) {
        const body = await bucket.get(o.key);
        const file = path.join(dir, o.key);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, Buffer.from(await body!.arrayBuffer()));
        objects++;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const glob = path.join(dir, 'audit/v1/*/*/*.ndjson.gz');
    const reader = await duck.runAndReadAll(
      `SELECT count(DISTINCT decision_id) AS decisions, count(*) AS lines,
              count(DISTINCT date) AS dates
       FROM read_json('${glob}', hive_partitioning = true)`,
    );
    const [row] = reader.getRowObjects() as { decisions: bigint; lines: bigint; dates: bigint }[];
    expect(Number(row!.decisions)).toBe(DECISIONS);
    expect(Number(row!.lines)).toBeGreaterThanOrEqual(DECISIONS);
    expect(Number(row!.dates)).toBeGreaterThanOrEqual(1);

    // Metrics, once every flush has landed.
    await poll('metrics', async () => (await metric('logs_written_total')) >= DECISIONS, 30_000);
    const queued = await metric('logs_queued_total');
    const messages = await metric('logs_queue_messages_total');
    expect(queued).toBe(DECISIONS);
    expect(await metric('logs_written_total')).toBe(DECISIONS);
    expect(await metric('logs_dropped_total')).toBe(0);
    expect(messages).toBeGreaterThan(0);
    expect(messages).toBeLessThan(DECISIONS);
    expect(await metric('async_logger_queue_size')).toBe(0);
    console.log(
      `duckdb: ${DECISIONS} decisions (${IN_FLIGHT} in flight) in ${burstMs} ms, all in D1 after ` +
        `${doneMs} ms; ${messages} queue messages (${(queued / messages).toFixed(1)} events per ` +
        `message); ${objects} archive objects; export ${lines.length} lines`,
    );
  }, 240_000);
});
