/**
 * A real local stack for end-to-end tests: `wrangler dev` (local D1, Queues and Durable Objects
 * in a temp persistence dir, migrations applied first) and the `prometheus` binary scraping its
 * /metrics every second with a config derived from grafana/prometheus.yml (same job, bearer token
 * file and rule file). Random free ports, bounded waits with clear errors, and everything killed
 * and deleted by `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
const WRANGLER_ENV = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  NO_COLOR: '1',
  CI: 'true',
};

/** A free TCP port on 127.0.0.1 (bound once to find it, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Polls `probe` until it returns a value (not undefined), or throws `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}` +
      (lastError ? ` (last error: ${String(lastError)})` : ''),
  );
}

/** A child process with its output kept (bounded) for error messages. */
class Proc {
  readonly child: ChildProcess;
  #log = '';
  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    // Own process group, so stop() also ends what it spawns (wrangler → workerd).
    this.child = spawn(cmd, args, {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      this.#log = (this.#log + b.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
  get log(): string {
    return this.#log;
  }
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (!pid || this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    await Promise.race([gone, new Promise((r) => setTimeout(r, 8_000))]);
    clearTimeout(timer);
  }
}

export interface Vakt {
  url: string;
  adminToken: string;
  metricsToken: string;
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  admin(pathname: string, body?: unknown): Promise<Response>;
}

export interface PrometheusServer {
  url: string;
  /** GET /api/v1/<endpoint>; throws on a non-success answer. */
  api<T>(endpoint: string, params?: Record<string, string>): Promise<T>;
}

export class Stack {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'vakt-stack-'));
  #procs: Proc[] = [];

  /**
   * Applies the D1 migrations into a fresh persistence dir and starts `wrangler dev` on a free
   * port with the given secrets. Resolves once /health answers.
   */
  async startVakt(opts: {
    adminToken: string;
    metricsToken: string;
    /** Further `--var NAME:value` settings (e.g. METRICS_SHARDS). */
    vars?: Record<string, string>;
    /** Worker entry instead of wrangler.toml's `main` (e.g. support/fault-worker.ts). */
    script?: string;
    timeoutMs?: number;
  }): Promise<Vakt> {
    const persist = path.join(this.dir, 'wrangler-state');
    const migrate = spawnSync(
      WRANGLER,
      ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist],
      { cwd: ROOT, env: WRANGLER_ENV, encoding: 'utf8', timeout: 90_000 },
    );
    if (migrate.status !== 0)
      throw new Error(`wrangler d1 migrations apply failed:\n${migrate.stdout}\n${migrate.stderr}`);

    const port = await freePort();
    const inspector = await freePort();
    const proc = new Proc(
      'wrangler dev',
      WRANGLER,
      [
        'dev',
        ...(opts.script ? [opts.script] : []),
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--inspector-port',
        String(inspector),
        '--persist-to',
        persist,
        '--show-interactive-dev-session=false',
        '--log-level',
        'warn',
        '--var',
        `ADMIN_TOKEN:${opts.adminToken}`,
        '--var',
        `METRICS_TOKEN:${opts.metricsToken}`,
        ...Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
      ],
      WRANGLER_ENV,
    );
    this.#procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    const timeoutMs = opts.timeoutMs ?? 90_000;
    try {
      await waitFor(
        `wrangler dev to answer GET ${url}/health`,
        async () => {
          if (proc.exited) throw new Error(`wrangler dev exited early`);
          const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
          return r.ok ? true : undefined;
        },
        timeoutMs,
        500,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- wrangler dev output ---\n${proc.log}`);
    }
    const vfetch = (pathname: string, init: RequestInit = {}) =>
      fetch(url + pathname, { ...init, signal: AbortSignal.timeout(15_000) });
    return {
      url,
      adminToken: opts.adminToken,
      metricsToken: opts.metricsToken,
      fetch: vfetch,
      admin: (pathname, body) =>
        vfetch(pathname, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            Authorization: `Bearer ${opts.adminToken}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
    };
  }

  /**
   * Starts Prometheus scraping `vakt` every second (or every `scrapeIntervalS`, with the same
   * timeout). The config is grafana/prometheus.yml with only what a test must change: the
   * interval, the target, and absolute paths for the token and rule files (the committed
   * alerts.yml and slo-rules.yml are loaded and evaluated).
   */
  async startPrometheus(
    vakt: Vakt,
    opts: { timeoutMs?: number; scrapeIntervalS?: number } = {},
  ): Promise<PrometheusServer> {
    const cfg = YAML.parse(readFileSync(path.join(ROOT, 'grafana/prometheus.yml'), 'utf8'));
    cfg.global.scrape_interval = `${opts.scrapeIntervalS ?? 1}s`;
    cfg.global.scrape_timeout = `${opts.scrapeIntervalS ?? 1}s`;
    cfg.global.evaluation_interval = '1s';
    // The committed rule files, with every group evaluated each second (the SLO period group
    // runs once a minute in production).
    cfg.rule_files = (cfg.rule_files as string[]).map((f) => {
      const doc = YAML.parse(readFileSync(path.join(ROOT, 'grafana', f), 'utf8'));
      for (const g of doc.groups) delete g.interval;
      const out = path.join(this.dir, f);
      writeFileSync(out, YAML.stringify(doc));
      return out;
    });
    const job = cfg.scrape_configs[0];
    const tokenFile = path.join(this.dir, 'metrics_token');
    writeFileSync(tokenFile, vakt.metricsToken + '\n');
    job.authorization.credentials_file = tokenFile;
    job.static_configs[0].targets = [new URL(vakt.url).host];
    const configFile = path.join(this.dir, 'prometheus.yml');
    writeFileSync(configFile, YAML.stringify(cfg));

    const port = await freePort();
    const proc = new Proc(
      'prometheus',
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(this.dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        // Exemplars (OpenMetrics scrapes only) are kept and served at /api/v1/query_exemplars.
        '--enable-feature=exemplar-storage',
      ],
      process.env,
    );
    this.#procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        'prometheus to become ready',
        async () => {
          if (proc.exited) throw new Error('prometheus exited early');
          const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
          return r.ok ? true : undefined;
        },
        opts.timeoutMs ?? 30_000,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- prometheus output ---\n${proc.log}`);
    }
    return {
      url,
      async api<T>(endpoint: string, params: Record<string, string> = {}): Promise<T> {
        const r = await fetch(`${url}/api/v1/${endpoint}?${new URLSearchParams(params)}`, {
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await r.json()) as { status: string; data: T; error?: string };
        if (body.status !== 'success')
          throw new Error(`prometheus ${endpoint} ${JSON.stringify(params)}: ${body.error}`);
        return body.data;
      },
    };
  }

  /** Stops every process (process groups, SIGTERM then SIGKILL) and deletes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(this.#procs.reverse().map((p) => p.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
