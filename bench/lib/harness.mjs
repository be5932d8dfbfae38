/**
 * The one harness every benchmark uses, so each bench file holds only its component's cases:
 * - argument parsing with --help (`cli`, shared with scripts/),
 * - statistics (`median`, `percentile`) and a timing loop (`timeRuns`),
 * - bundling: the deployable bytes (`bundleWorker`, `wrangler deploy --dry-run`) or pure modules
 *   and small probe workers (`bundleSource`, esbuild),
 * - one Miniflare/workerd set-up (`startWorker`): wrangler.toml's compatibility settings, and with
 *   `vakt: true` its D1, Queue and Durable Object bindings with the D1 migrations applied.
 * Speed is reported as ratios within one run (docs/benchmarks.md), so every number here is raw.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { cli, QUIET_WRANGLER_ENV, ROOT, WRANGLER_JS } from '../../scripts/lib/cli.mjs';

export { cli, ROOT };

// Every wrangler/Miniflare call below runs offline and quietly.
Object.assign(process.env, QUIET_WRANGLER_ENV);

// ---------------------------------------------------------------------------------- statistics

/** Median of a non-empty list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (`p` in 0–100) of a non-empty list of numbers. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Runs `fn` `warmup` times untimed, then `runs` times timed; returns each run's milliseconds.
 * For work timed in Node; work inside workerd is timed by the probe worker itself.
 */
export async function timeRuns(fn, { warmup = 5, runs = 20 } = {}) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return times;
}

/** The machine a figure was measured on, for the report header. */
export function machine() {
  const cpus = os.cpus();
  return (
    `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`
  );
}

// ---------------------------------------------------------------------------------- files

/** A fresh temp directory, removed when the process exits. */
export function workDir(prefix = 'vakt-bench-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------- bundling

const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');

/** wrangler.toml's compatibility settings; every bench worker runs under the same ones. */
const COMPAT = {
  compatibilityDate: /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1],
  compatibilityFlags: JSON.parse(
    /^compatibility_flags\s*=\s*(\[[^\]]*\])/m.exec(toml)?.[1] ?? '[]',
  ),
};

/**
 * Bundles a Worker exactly as `wrangler deploy` would (wrangler.toml's settings), into `outdir`.
 * `entry` (relative to the repository root) replaces `main`, e.g. a probe; with `bare`, the
 * bundle gets only wrangler.toml's compatibility settings and no bindings (the ceiling worker).
 * Returns the path of the bundled main module.
 */
export function bundleWorker(outdir, entry, { bare = false } = {}) {
  const args = ['deploy', '--dry-run', '--outdir', outdir];
  if (bare) {
    const config = `${outdir}.toml`;
    writeFileSync(
      config,
      [
        `name = "bench-${path.basename(outdir)}"`,
        `main = ${JSON.stringify(path.join(ROOT, entry))}`,
        `compatibility_date = "${COMPAT.compatibilityDate}"`,
        `compatibility_flags = ${JSON.stringify(COMPAT.compatibilityFlags)}`,
      ].join('\n') + '\n',
    );
    args.push('-c', config);
  } else if (entry) {
    args.push(entry);
  }
  execFileSync(process.execPath, [WRANGLER_JS, ...args], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const name = entry ? path.basename(entry).replace(/\.[cm]?[jt]s$/, '.js') : 'index.js';
  return path.join(outdir, name);
}

/**
 * Bundles TypeScript source with esbuild (imports resolve from the repository root): either
 * `contents` (a small probe that imports from './src/…') or an `entry` file. Returns `outfile`.
 */
export async function bundleSource({ contents, entry, outfile, platform = 'neutral' }) {
  await build({
    ...(contents !== undefined
      ? { stdin: { contents, resolveDir: ROOT, loader: 'ts' } }
      : { entryPoints: [entry] }),
    bundle: true,
    format: 'esm',
    platform,
    outfile,
    external: ['cloudflare:workers'],
    logLevel: 'error',
  });
  return outfile;
}

/** Bundles `contents` (see bundleSource) for Node and imports it: vakt's pure modules in Node. */
export async function importSource(contents) {
  const outfile = path.join(workDir(), 'module.mjs');
  await bundleSource({ contents, outfile, platform: 'node' });
  return import(pathToFileURL(outfile).href);
}

// ---------------------------------------------------------------------------------- workerd

/** Child pids of this process (Miniflare spawns one workerd per instance). */
function childPids() {
  try {
    return readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** utime + stime of a process in seconds, or NaN where /proc is unavailable. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * Starts a Worker in Miniflare (workerd) on 127.0.0.1.
 *
 * @param {object} o
 * @param {string} [o.scriptPath] bundled main module (bundleWorker / bundleSource output)
 * @param {string} [o.script]     or the module source itself
 * @param {boolean} [o.vakt]      give it vakt's bindings from wrangler.toml (D1, queues, DOs)
 * @param {boolean} [o.migrate]   with `vakt`: apply migrations/ to the local D1 (default true)
 * @param {Record<string, string>} [o.bindings] extra vars/secrets (override wrangler.toml's)
 * @param {string} [o.persistDir] keep local storage in files there (as `wrangler dev` does)
 * @param {object} [o.miniflare]  further Miniflare options (durableObjects, inspectorPort, …)
 * @returns {Promise<{mf: Miniflare, url: URL, pid: number | undefined, dispose(): Promise<void>}>}
 */
export async function startWorker(o) {
  let base = {};
  if (o.vakt) {
    const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
    ({ workerOptions: base } = unstable_getMiniflareWorkerOptions(
      path.join(ROOT, 'wrangler.toml'),
    ));
  }
  const before = new Set(childPids());
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    cf: false,
    ...COMPAT,
    ...base,
    modules: true,
    modulesRules: undefined,
    ...(o.scriptPath
      ? { scriptPath: o.scriptPath, modulesRoot: path.dirname(o.scriptPath) }
      : { script: o.script }),
    bindings: { ...base.bindings, ...o.bindings },
    ...(o.persistDir ? { defaultPersistRoot: o.persistDir } : {}),
    ...o.miniflare,
  });
  const url = await mf.ready;
  const pid = childPids().find((p) => !before.has(p));
  if (o.vakt && o.migrate !== false) await migrate(mf);
  return { mf, url, pid, dispose: () => mf.dispose() };
}

/** Applies every migration, in order, as `wrangler d1 migrations apply --local` would. */
async function migrate(mf) {
  const { unstable_splitSqlQuery } = await import('wrangler');
  const db = await mf.getD1Database('DB');
  const dir = path.join(ROOT, 'migrations');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    for (const stmt of unstable_splitSqlQuery(readFileSync(path.join(dir, file), 'utf8'))) {
      await db.prepare(stmt).run();
    }
  }
}

/** Creates an API key through POST /admin/keys on a running vakt; returns the key. */
export async function createKey(url, adminToken, payload) {
  const res = await fetch(new URL('/admin/keys', url), {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  if (res.status !== 201) throw new Error(`POST /admin/keys: ${res.status} ${await res.text()}`);
  return (await res.json()).key;
}

/** Runs `main`, then exits 0, or prints the error and exits 1 (no dangling handles keep it up). */
export function run(main) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    },
  );
}
