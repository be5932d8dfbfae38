/**
 * The real /metrics of a running Worker (`wrangler dev`: workerd with local D1, Queue and
 * Durable Objects), after real traffic, in both formats, through promtool and prometheus_client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTRACT_LINT,
  promtoolCheckMetrics,
  promtoolParseOpenMetrics,
  pythonParse,
  toolsAvailable,
} from './metrics-tools';
import { Stack, type Vakt } from './support/stack';

const ADMIN = 'e2e-admin-token';
const METRICS_TOKEN = 'e2e-metrics-token';
const OM_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(toolsAvailable('wrangler dev /metrics checks'))(
  '/metrics of a running Worker',
  () => {
    const stack = new Stack();
    let vakt: Vakt;
    let base = '';
    const scrape = (accept?: string) =>
      fetch(`${base}/metrics`, {
        headers: {
          Authorization: `Bearer ${METRICS_TOKEN}`,
          ...(accept ? { Accept: accept } : {}),
        },
      });

    beforeAll(async () => {
      // Three shards, so the scrape really merges several objects.
      vakt = await stack.startVakt({
        adminToken: ADMIN,
        metricsToken: METRICS_TOKEN,
        vars: { METRICS_SHARDS: '3' },
      });
      base = vakt.url;
    }, 120_000);

    afterAll(() => stack.stop(), 30_000);

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
        const res = await scrape();
        expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        prom = await res.text();
      }
      expect(prom).toContain(want);
      expect(prom).toContain('governance_allowed_total{model="gpt-4",operation="chat"} 12');
      expect(prom).toContain(
        'governance_blocked_total{model="claude-*",operation="chat",reason="model_not_allowed"} 5',
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

      const res = await scrape(OM_ACCEPT);
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
