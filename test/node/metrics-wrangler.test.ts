/**
 * The real /metrics of a running Worker (`wrangler dev`: workerd with local D1, Queue and
 * Durable Objects), after real traffic, in both formats, through promtool and prometheus_client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTRACT_LINT,
  promtoolCheckMetrics,
  promtoolParseOpenMetrics,
  pythonParse,
  toolsAvailable,
} from './metrics-tools';

const ADMIN = 'e2e-admin-token';
const OM_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const env = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(toolsAvailable('wrangler dev /metrics checks'))(
  '/metrics of a running Worker',
  () => {
    let proc: ChildProcess | undefined;
    let base = '';
    let stateDir = '';
    let logs = '';

    beforeAll(async () => {
      stateDir = mkdtempSync(path.join(tmpdir(), 'vakt-metrics-e2e-'));
      const migrate = spawnSync(
        'npx',
        ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir],
        { env, encoding: 'utf8', timeout: 90_000 },
      );
      if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
      const port = await freePort();
      const inspector = await freePort();
      base = `http://127.0.0.1:${port}`;
      proc = spawn(
        'npx',
        [
          'wrangler',
          'dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--inspector-port',
          String(inspector),
          '--persist-to',
          stateDir,
          '--var',
          `ADMIN_TOKEN:${ADMIN}`,
          '--var',
          'METRICS_SHARDS:3',
          '--show-interactive-dev-session=false',
          '--log-level',
          'warn',
        ],
        { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      proc.stdout?.on('data', (d) => (logs += d));
      proc.stderr?.on('data', (d) => (logs += d));
      for (let i = 0; i < 120; i++) {
        try {
          if ((await fetch(`${base}/health`)).ok) return;
        } catch {
          // not listening yet
        }
        if (proc.exitCode !== null) break;
        await sleep(500);
      }
      throw new Error(`wrangler dev did not start:\n${logs.slice(-2000)}`);
    });

    afterAll(() => {
      if (proc?.pid && proc.exitCode === null) {
        try {
          process.kill(-proc.pid, 'SIGTERM'); // the process group wrangler started
        } catch {
          // already gone
        }
      }
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it('serves exact, valid expositions in both formats after real traffic', async () => {
      const created = await fetch(`${base}/admin/keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'e2e', policy: { models: ['gpt-4*'] } }),
      });
      expect(created.status).toBe(201);
      const { key } = (await created.json()) as { key: string };
      const checkBody = (model: string, input: string) => ({
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, operation: 'chat', input }),
      });
      const sent = await Promise.all([
        ...Array.from({ length: 12 }, () => fetch(`${base}/v1/check`, checkBody('gpt-4', 'hi'))),
        ...Array.from({ length: 5 }, () => fetch(`${base}/v1/check`, checkBody('claude-3', 'hi'))),
        ...Array.from({ length: 3 }, () => fetch(`${base}/nope`)),
      ]);
      expect(sent.map((r) => r.status).filter((s) => s === 200)).toHaveLength(17);
      await Promise.all(sent.map((r) => r.arrayBuffer()));

      // Flushes run in waitUntil after each response; poll (bounded) until they have landed.
      let prom = '';
      const want = 'requests_total{method="POST",endpoint="/v1/check",status="200"} 17';
      for (let i = 0; i < 60 && !prom.includes(want); i++) {
        if (i > 0) await sleep(250);
        const res = await fetch(`${base}/metrics`);
        expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        prom = await res.text();
      }
      expect(prom).toContain(want);
      expect(prom).toContain('governance_allowed_total{model="gpt-4",operation="chat"} 12');
      expect(prom).toContain(
        'governance_blocked_total{model="claude-3",operation="chat",reason="model_not_allowed"} 5',
      );
      expect(prom).toContain('requests_total{method="GET",endpoint="unmatched",status="404"} 3');

      const lint = promtoolCheckMetrics(prom);
      expect(lint.problems.filter((p) => !CONTRACT_LINT.includes(p))).toEqual([]);
      expect([0, 3]).toContain(lint.code);
      const parsed = pythonParse(prom, 'prometheus');
      const count = parsed
        .find((f) => f.name === 'governance_check_latency_ms')!
        .samples.find((s) => s.name.endsWith('_count') && s.labels.stage === 'rate_limit');
      expect(count?.value).toBe(17);

      const res = await fetch(`${base}/metrics`, { headers: { Accept: OM_ACCEPT } });
      expect(res.headers.get('content-type')).toBe(
        'application/openmetrics-text; version=1.0.0; charset=utf-8',
      );
      const om = await res.text();
      const families = pythonParse(om, 'openmetrics');
      const requests = families.find((f) => f.name === 'requests');
      expect(requests?.type).toBe('counter');
      expect(
        requests?.samples.find(
          (s) => s.labels.endpoint === '/v1/check' && s.labels.status === '200',
        )?.value,
      ).toBe(17);
      expect(promtoolParseOpenMetrics(om).code).toBe(0);
    });
  },
);
