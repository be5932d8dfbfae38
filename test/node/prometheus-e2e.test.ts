/**
 * End to end with the real thing: `wrangler dev` (local D1, Queue, Durable Objects) scraped every
 * second by the real `prometheus` binary, using grafana/prometheus.yml (bearer METRICS_TOKEN) and
 * grafana/alerts.yml. A known traffic mix goes through vakt; then every PromQL query of the
 * original service's documentation, every panel query of grafana/dashboard.json and every alert
 * expression of grafana/alerts.yml is evaluated through Prometheus' HTTP API.
 *
 * How "matches the traffic" is established exactly, not approximately:
 * 1. Phase 1 sends one request of every kind (so every series exists), waits until vakt's own
 *    /metrics shows it, and only then starts Prometheus — so its first sample of each series is
 *    the known phase-1 count.
 * 2. Phase 2 sends a known mix while Prometheus scrapes; the test waits until the last sample
 *    shows the phase-1 + phase-2 totals.
 * 3. The raw samples (`x[1h]`) must start at the phase-1 and end at the final counts. Each query's
 *    answer must then equal what Prometheus' documented arithmetic (extrapolated increase/rate,
 *    histogram_quantile) gives for those samples — recomputed here in support/promql.ts.
 * Everything is evaluated at one fixed time a little in the past, so every query sees the same
 * samples.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { interpolate, QUERIES, VARIABLES, type VariableName } from '../../scripts/gen-dashboard';
import { alertName, loadSloSpec, seconds, SLO_NAMES, type SloName } from '../../scripts/gen-slo';
import { REQUEST_LATENCY_BUCKETS_MS } from '../../src/metrics/definitions';
import { maxOutstanding } from '../../src/rate-limit/limits';
import { requireTools } from './support/binaries';
import { dashboardQueries, type DashboardDoc } from './support/dashboard';
import {
  bucketQuantile,
  extrapolatedIncrease,
  labelKey,
  points,
  sumBy,
  type Labels,
  type Sample,
  type Series,
} from './support/promql';
import { sentryEvents, startSentrySink, type SentrySink } from './support/sentry-sink';
import { ROOT, Stack, waitFor, type PrometheusServer, type Vakt } from './support/stack';

/** The Sentry project id of the local sink's DSN. */
const SENTRY_PROJECT = 4242;

const bins = requireTools('Prometheus end-to-end (prometheus-e2e.test.ts)', [
  'prometheus',
] as const);

const ADMIN_TOKEN = 'e2e-admin-token';
const METRICS_TOKEN = 'e2e-metrics-token';
const PII_INPUT = 'Mitt fødselsnummer er 01010012356, ring meg.';
const SECRET_INPUT =
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0\n-----END RSA PRIVATE KEY-----';

/** Extra requests per phase from the contains_secret kind: 1 in phase 1, 6 in phase 2. */
const S1 = 1;
const S2 = 6;
/** Monitor-mode requests per phase (allowed; counted in governance_monitored_total). */
const M1 = 1;
const M2 = 2;

/**
 * The token-quota key (docs/tokens.md): a gpt-4 text (cl100k_base) and its count by the reference
 * tokenizer; a quota with room for two of them and one token more, refilled over a day (a token
 * per hour or more), so nothing refills during the test.
 */
const TOKEN_TEXT = 'Is this a question?';
const TOKEN_COST = countTokens(TOKEN_TEXT);
const TOKEN_QUOTA = 2 * TOKEN_COST + 1;
/** More tokens than the whole quota: refused at once (413, reason too_large). */
const TOO_MANY_TOKENS = `${TOKEN_TEXT} `.repeat(3);
/** Token-quota requests: admitted (phase 1 only), refused as exceeded (429), as too_large (413). */
const TA1 = 2;
const TX1 = 1;
const TX2 = 3;
const TL1 = 1;
const TL2 = 2;
/** All of the token key's requests per phase. */
const T1 = TA1 + TX1 + TL1;
const T2 = TX2 + TL2;

/** One kind of request: how to send it and what it must do. */
interface Kind {
  name: string;
  send(v: Vakt, keys: Keys): Promise<Response>;
  status: number;
  reasons?: string[];
  /** A refusal's problem type (its last segment). */
  problem?: string;
  /** The model label its counted tokens go to (tokens_total), when it is not gpt-4. */
  model?: string;
}
interface Keys {
  main: { id: string; key: string };
  rl: { id: string; key: string };
  /** Only ever used with the D1 fault, so it is never in an isolate's key cache. */
  fault: { id: string; key: string };
  monitor: { id: string; key: string };
  /**
   * The slow and the traced requests' key: its limit is below the lease floor (maxOutstanding
   * is 0), so every one of its requests calls its rate-limiter object and meets the injected
   * fault on its own path — a leased key's isolate would answer it from a lease, with no RPC.
   */
  slow: { id: string; key: string };
  /** Has a token_limit of TOKEN_QUOTA per day. */
  tok: { id: string; key: string };
}

/**
 * Tokens per phase by `model direction`: input as vakt reported them (a decision's usage, or the
 * token problem's input_tokens), output as the test reported them through POST /v1/usage.
 */
const tokensSent = [new Map<string, number>(), new Map<string, number>()] as const;
const countTokensSent = (phase: 0 | 1, model: string, direction: 'input' | 'output', n: number) => {
  const k = `${model} ${direction}`;
  tokensSent[phase].set(k, (tokensSent[phase].get(k) ?? 0) + n);
};
/** Output tokens reported per phase for one allowed decision of the main key (no token_limit). */
const OUT = [7, 11] as const;

/**
 * The client-side time of every /v1/check of phase 2 (until the response headers arrived). vakt
 * records a request's latency before it sends the headers, so each is an upper bound on what
 * request_latency_ms recorded for that request: the histogram's answers are checked against
 * these, not only against Prometheus' own samples.
 */
const phase2CheckMs: number[] = [];
let inPhase2 = false;

/** A POST /v1/check, timed in phase 2. */
const postCheck = async (v: Vakt, headers: Record<string, string>, body: unknown) => {
  const t0 = performance.now();
  const res = await v.fetch('/v1/check', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (inPhase2) phase2CheckMs.push(performance.now() - t0);
  return res;
};
const check = (v: Vakt, key: string, body: unknown, headers: Record<string, string> = {}) =>
  postCheck(v, { Authorization: `Bearer ${key}`, ...headers }, body);

/** The rate-limiter delay of the slow requests: far above the latency SLO's 50 ms. */
const SLOW_MS = 120;
/** The traced request: a known W3C trace, a failing and slow rate limiter (fail_open → 200). */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const TRACED_SLOW_MS = 300;
/** Below the lease floor (see Keys.slow); room for the 6 slow and traced requests. */
const SLOW_KEY_LIMIT = 60;
const ok = (model: string, operation: string, input: string) => ({ model, operation, input });

const KINDS: Record<string, Kind> = {
  allowed: {
    name: 'allowed',
    send: (v, k) => check(v, k.main.key, ok('gpt-4', 'classify', 'Is this a question?')),
    status: 200,
    reasons: [],
  },
  modelNotAllowed: {
    name: 'model_not_allowed',
    send: (v, k) => check(v, k.main.key, ok('claude-3', 'classify', 'hello')),
    status: 200,
    reasons: ['model_not_allowed'],
    model: 'claude-*',
  },
  externalModel: {
    name: 'external_model_detected',
    send: (v, k) => check(v, k.main.key, ok('my-own-llm', 'classify', 'hello')),
    status: 200,
    reasons: ['external_model_detected'],
    model: 'external-model',
  },
  operationNotAllowed: {
    name: 'operation_not_allowed',
    send: (v, k) => check(v, k.main.key, ok('gpt-4', 'generate', 'hello')),
    status: 200,
    reasons: ['operation_not_allowed'],
  },
  personalData: {
    name: 'contains_personal_data',
    send: (v, k) => check(v, k.main.key, ok('gpt-4', 'classify', PII_INPUT)),
    status: 200,
    reasons: ['contains_personal_data'],
  },
  tooLarge: {
    name: 'input_too_large',
    send: (v, k) => check(v, k.main.key, ok('gpt-4', 'classify', 'x'.repeat(201))),
    status: 200,
    reasons: ['input_too_large'],
  },
  secret: {
    name: 'contains_secret',
    send: (v, k) => check(v, k.main.key, ok('gpt-4', 'classify', SECRET_INPUT)),
    status: 200,
    reasons: ['contains_secret'],
  },
  monitored: {
    name: 'monitored (would be contains_personal_data)',
    send: (v, k) => check(v, k.monitor.key, ok('gpt-4', 'summarize', PII_INPUT)),
    status: 200,
    reasons: [],
  },
  rlAllowed: {
    name: 'allowed under the small quota',
    send: (v, k) => check(v, k.rl.key, ok('gpt-4', 'classify', 'hello')),
    status: 200,
    reasons: [],
  },
  rateLimited: {
    name: 'rate limited',
    send: (v, k) => check(v, k.rl.key, ok('gpt-4', 'classify', 'hello')),
    status: 429,
  },
  badJson: {
    name: 'bad JSON',
    send: (v, k) => check(v, k.main.key, '{"model": "gpt-4",'),
    status: 400,
  },
  noKey: {
    name: 'no API key',
    send: (v) => postCheck(v, {}, ok('gpt-4', 'classify', 'hello')),
    status: 401,
  },
  notFound: { name: 'unknown route', send: (v) => v.fetch('/nope'), status: 404 },
  serverError: {
    name: '500 from an injected D1 outage',
    send: (v, k) =>
      check(v, k.fault.key, ok('gpt-4', 'classify', 'hello'), { 'X-Test-Fault': 'd1' }),
    status: 500,
  },
  slow: {
    name: 'allowed, with a slow rate limiter',
    send: (v, k) =>
      check(v, k.slow.key, ok('gpt-4', 'classify', 'Is this a question?'), {
        'X-Test-Fault': `slow=${SLOW_MS}`,
      }),
    status: 200,
    reasons: [],
  },
  health: { name: 'health', send: (v) => v.fetch('/health'), status: 200 },
  tokAllowed: {
    name: 'allowed within the token quota',
    send: (v, k) => check(v, k.tok.key, ok('gpt-4', 'classify', TOKEN_TEXT)),
    status: 200,
    reasons: [],
  },
  tokExceeded: {
    name: 'refused: token quota exceeded',
    send: (v, k) => check(v, k.tok.key, ok('gpt-4', 'classify', TOKEN_TEXT)),
    status: 429,
    problem: 'token-quota-exceeded',
  },
  tokTooLarge: {
    name: 'refused: larger than the whole token quota',
    send: (v, k) => check(v, k.tok.key, ok('gpt-4', 'classify', TOO_MANY_TOKENS)),
    status: 413,
    problem: 'token-request-too-large',
  },
};

/** Phase 1: one of each (the small quota of 2 is used up, then one 429). */
const PHASE1: Array<[Kind, number]> = [
  [KINDS.allowed!, 1],
  [KINDS.modelNotAllowed!, 1],
  [KINDS.externalModel!, 1],
  [KINDS.operationNotAllowed!, 1],
  [KINDS.personalData!, 1],
  [KINDS.tooLarge!, 1],
  [KINDS.secret!, S1],
  [KINDS.monitored!, M1],
  [KINDS.rlAllowed!, 2],
  [KINDS.rateLimited!, 1],
  [KINDS.badJson!, 1],
  [KINDS.noKey!, 1],
  [KINDS.notFound!, 1],
  [KINDS.serverError!, 1],
  [KINDS.slow!, 1],
  [KINDS.tokAllowed!, TA1],
  [KINDS.tokExceeded!, TX1],
  [KINDS.tokTooLarge!, TL1],
];
/** Phase 2: distinct counts per kind, so a mixed-up label cannot pass. */
const PHASE2: Array<[Kind, number]> = [
  [KINDS.allowed!, 5],
  [KINDS.modelNotAllowed!, 1],
  [KINDS.externalModel!, 2],
  [KINDS.operationNotAllowed!, 3],
  [KINDS.personalData!, 4],
  [KINDS.tooLarge!, 5],
  [KINDS.secret!, S2],
  [KINDS.monitored!, M2],
  [KINDS.rateLimited!, 4],
  [KINDS.badJson!, 3],
  [KINDS.noKey!, 2],
  [KINDS.notFound!, 1],
  [KINDS.health!, 2],
  [KINDS.serverError!, 3],
  [KINDS.slow!, 4],
  [KINDS.tokExceeded!, TX2],
  [KINDS.tokTooLarge!, TL2],
];
/** Phase 2 ends with one traced request (see TRACEPARENT): allowed, fail_open. */

/** A counter series the traffic fully determines: its value after phase 1 and after phase 2. */
interface Expect {
  name: string;
  labels: Labels;
  v0: number;
  v1: number;
}

function expectations(keys: Keys, health0: number): Expect[] {
  const E = (name: string, labels: Labels, v0: number, v1: number): Expect => ({
    name,
    labels,
    v0,
    v1,
  });
  const check = (status: string, v0: number, v1: number) =>
    E('requests_total', { method: 'POST', endpoint: '/v1/check', status }, v0, v1);
  const blocked = (model: string, operation: string, reason: string, v1: number) =>
    E('governance_blocked_total', { model, operation, reason }, 1, v1);
  // Every model's counted input tokens, as the responses reported them.
  const tokens = [...tokensSent[0]].map(([k, n0]) => {
    const [model, direction] = k.split(' ') as [string, string];
    return E('tokens_total', { model, direction }, n0, n0 + (tokensSent[1].get(k) ?? 0));
  });
  return [
    // 200s: allowed + 5 (or 6) blocked + 2 under the small quota + 1 slow; then 5 allowed +
    // 15 (or 21) blocked + 4 slow + the traced one; plus the monitored ones and the token
    // key's admitted ones.
    check('200', 9 + S1 + M1 + TA1, 34 + S1 + S2 + M1 + M2 + TA1),
    // The small request quota's refusals, then the token quota's.
    check('429', 1 + TX1, 5 + TX1 + TX2),
    check('413', TL1, TL1 + TL2),
    check('400', 1, 4),
    check('401', 1, 3),
    check('500', 1, 4),
    E('requests_total', { method: 'GET', endpoint: 'unmatched', status: '404' }, 1, 2),
    // main, rl, fault, monitor, slow, tok.
    E('requests_total', { method: 'POST', endpoint: '/admin/keys', status: '201' }, 6, 6),
    // One usage report per phase.
    E('requests_total', { method: 'POST', endpoint: '/v1/usage', status: '200' }, 1, 2),
    E(
      'requests_total',
      { method: 'GET', endpoint: '/health', status: '200' },
      health0,
      health0 + 2,
    ),
    E(
      'request_latency_ms_count',
      { endpoint: '/v1/check' },
      13 + S1 + M1 + T1,
      50 + S1 + S2 + M1 + M2 + T1 + T2,
    ),
    E('governance_allowed_total', { model: 'gpt-4', operation: 'classify' }, 4 + TA1, 14 + TA1),
    E('governance_allowed_total', { model: 'gpt-4', operation: 'summarize' }, M1, M1 + M2),
    E(
      'governance_monitored_total',
      { model: 'gpt-4', operation: 'summarize', reason: 'contains_personal_data' },
      M1,
      M1 + M2,
    ),
    blocked('claude-*', 'classify', 'model_not_allowed', 2),
    blocked('external-model', 'classify', 'external_model_detected', 3),
    blocked('gpt-4', 'generate', 'operation_not_allowed', 4),
    blocked('gpt-4', 'classify', 'contains_personal_data', 5),
    blocked('gpt-4', 'classify', 'input_too_large', 6),
    blocked('gpt-4', 'classify', 'contains_secret', 7),
    E('rate_limit_hits_total', { api_key_id: keys.rl.id }, 1, 5),
    E(
      'token_quota_refusals_total',
      { api_key_id: keys.tok.id, reason: 'exceeded' },
      TX1,
      TX1 + TX2,
    ),
    E(
      'token_quota_refusals_total',
      { api_key_id: keys.tok.id, reason: 'too_large' },
      TL1,
      TL1 + TL2,
    ),
    ...tokens,
    // One finding per planted value: the fødselsnummer (also in the monitored requests, where
    // its action is still block) and the private key.
    E(
      'governance_findings_total',
      { type: 'no_fodselsnummer', action: 'block' },
      1 + M1,
      5 + M1 + M2,
    ),
    E('governance_findings_total', { type: 'secret_private_key', action: 'block' }, S1, S1 + S2),
    // One audit event per decision: 10 in phase 1 (incl. the 429), 29 in phase 2 (the 500s
    // fail before any decision), + the monitored ones and the token key's (refusals included),
    // + one usage event per usage report (one per phase).
    E('logs_queued_total', {}, 10 + S1 + M1 + T1 + 1, 39 + S1 + S2 + M1 + M2 + T1 + T2 + 2),
    // A refused request (either quota) records the rate_limit stage only.
    ...(['rate_limit', 'validation', 'scoring', 'logging'] as const).map((stage) =>
      E(
        'governance_check_latency_ms_count',
        { stage },
        (stage === 'rate_limit' ? 10 + T1 : 9 + TA1) + S1 + M1,
        (stage === 'rate_limit' ? 39 + T1 + T2 : 34 + TA1) + S1 + S2 + M1 + M2,
      ),
    ),
  ];
}

/** Value of `name{labels}` in a Prometheus text exposition (labels must match exactly). */
function scrapeValue(text: string, e: { name: string; labels: Labels }): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== e.name) continue;
    const labels: Labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    if (labelKey(labels) === labelKey(e.labels)) return Number(m[3]);
  }
  return undefined;
}

const WITHOUT_NAME = ['__name__'];
/** Equal up to float rounding (and NaN equals NaN: histogram_quantile of an idle route is NaN). */
const close = (a: number, b: number) =>
  (Number.isNaN(a) && Number.isNaN(b)) ||
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe.skipIf(!bins)('real Prometheus scraping wrangler dev', () => {
  const stack = new Stack();
  let vakt: Vakt;
  let prom: PrometheusServer;
  let sentry: SentrySink;
  let traced: Response;
  let tracedBody: { decision_id: string; allowed: boolean };
  let keys: Keys;
  let expected: Expect[];
  /** The one evaluation time (seconds) of every query. */
  let T: number;

  beforeAll(async () => {
    sentry = await startSentrySink();
    vakt = await stack.startVakt({
      adminToken: ADMIN_TOKEN,
      metricsToken: METRICS_TOKEN,
      // The real vakt with faults injected into its dependencies on request (X-Test-Fault).
      script: 'test/node/support/fault-worker.ts',
      vars: { SENTRY_DSN: `http://public@127.0.0.1:${sentry.port}/${SENTRY_PROJECT}` },
    });
    const create = async (body: unknown) => {
      const r = await vakt.admin('/admin/keys', body);
      expect(r.status, await r.clone().text()).toBe(201);
      return (await r.json()) as { id: string; key: string };
    };
    keys = {
      main: await create({
        name: 'e2e-main',
        policy: {
          models: ['gpt-4*'],
          operations: ['classify', 'summarize'],
          max_input_chars: 200,
          rate_limit: { limit: 1000, window_s: 60 },
        },
      }),
      // Two per hour: nothing refills during the test.
      rl: await create({ name: 'e2e-rl', policy: { rate_limit: { limit: 2, window_s: 3600 } } }),
      fault: await create({ name: 'e2e-fault' }),
      monitor: await create({ name: 'e2e-monitor', policy: { mode: 'monitor' } }),
      slow: await create({
        name: 'e2e-slow',
        policy: {
          models: ['gpt-4*'],
          operations: ['classify'],
          rate_limit: { limit: SLOW_KEY_LIMIT, window_s: 3600 },
        },
      }),
      tok: await create({
        name: 'e2e-tokens',
        policy: {
          models: ['gpt-4*'],
          operations: ['classify'],
          token_limit: { tokens: TOKEN_QUOTA, window_s: 86_400 },
        },
      }),
    };
    expect(countTokens(TOO_MANY_TOKENS)).toBeGreaterThan(TOKEN_QUOTA);
    expect(maxOutstanding({ limit: SLOW_KEY_LIMIT, window_s: 3600 })).toBe(0);

    let phase: 0 | 1 = 0;
    /** Counts the input tokens a response reports, under its kind's model label. */
    const countReported = (kind: Pick<Kind, 'name' | 'model'>, body: string) => {
      let parsed: { usage?: { input_tokens?: number }; input_tokens?: number } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        return; // 404 and health answers need not be JSON
      }
      const n = parsed.usage?.input_tokens ?? parsed.input_tokens;
      if (n !== undefined) countTokensSent(phase, kind.model ?? 'gpt-4', 'input', n);
    };
    /** The last allowed decision of the main key (gpt-4), for a usage report. */
    let allowedId = '';
    /** Reports OUT[phase] output tokens for it, once its audit row is stored (else 404). */
    const reportUsage = async () => {
      const id = allowedId;
      await waitFor(
        'the allowed decision in the audit log',
        async () => ((await vakt.admin(`/admin/audit/${id}`)).status === 200 ? true : undefined),
        30_000,
      );
      const r = await vakt.fetch('/v1/usage', {
        method: 'POST',
        headers: { Authorization: `Bearer ${keys.main.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ decision_id: id, output_tokens: OUT[phase] }),
      });
      expect(r.status, await r.clone().text()).toBe(200);
      countTokensSent(phase, 'gpt-4', 'output', OUT[phase]);
    };
    const send = async ([kind, n]: [Kind, number]) => {
      for (let i = 0; i < n; i++) {
        const r = await kind.send(vakt, keys);
        const body = await r.text();
        expect(r.status, `${kind.name}: ${body}`).toBe(kind.status);
        if (kind.reasons) expect(JSON.parse(body).reasons, kind.name).toEqual(kind.reasons);
        if (kind.problem) expect(JSON.parse(body).type, kind.name).toMatch(`:${kind.problem}`);
        countReported(kind, body);
        if (kind === KINDS.allowed) allowedId = JSON.parse(body).decision_id;
      }
    };
    for (const step of PHASE1) await send(step);
    await reportUsage();

    // Wait for vakt's own /metrics to show all of phase 1 (flushes run in waitUntil).
    const scrape = async () => {
      const r = await vakt.fetch('/metrics', {
        headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(r.status).toBe(200);
      return r.text();
    };
    let health0 = 0;
    await waitFor(
      'phase-1 counts in /metrics',
      async () => {
        const text = await scrape();
        health0 =
          scrapeValue(text, {
            name: 'requests_total',
            labels: { method: 'GET', endpoint: '/health', status: '200' },
          }) ?? 0;
        expected = expectations(keys, health0);
        const pending = expected.filter((e) => scrapeValue(text, e) !== e.v0);
        return pending.length === 0 ? true : undefined;
      },
      30_000,
    );
    expect(health0).toBeGreaterThan(0); // the readiness probe's GET /health

    prom = await stack.startPrometheus(vakt);
    // A baseline of a few samples before phase 2.
    await waitFor(
      'five scrapes of vakt',
      async () => {
        const r = await prom.api<{ result: Sample[] }>('query', {
          query: 'count_over_time(up{job="vakt-local"}[1m])',
        });
        return Number(r.result[0]?.value[1] ?? 0) >= 5 ? true : undefined;
      },
      30_000,
    );

    inPhase2 = true;
    phase = 1;
    for (const step of PHASE2) await send(step);
    await reportUsage();
    // Last, so its latency exemplar is the newest in its bucket when Prometheus scrapes.
    traced = await check(vakt, keys.slow.key, ok('gpt-4', 'classify', 'Is this a question?'), {
      traceparent: TRACEPARENT,
      'X-Test-Fault': `slow=${TRACED_SLOW_MS},rate-limiter`,
    });
    const tracedText = await traced.text();
    tracedBody = JSON.parse(tracedText) as { decision_id: string; allowed: boolean };
    expect([traced.status, tracedBody.allowed]).toEqual([200, true]);
    countReported({ name: 'traced' }, tracedText);
    inPhase2 = false;
    // The token totals now include phase 2's.
    expected = expectations(keys, health0);

    // Until Prometheus' latest samples show every final count.
    await waitFor(
      'Prometheus to scrape the phase-2 totals',
      async () => {
        for (const e of expected) {
          const r = await prom.api<{ result: Sample[] }>('query', { query: selector(e) });
          if (r.result.length !== 1 || Number(r.result[0]!.value[1]) !== e.v1) return undefined;
        }
        return true;
      },
      45_000,
      500,
    );
    // A few more samples, then fix the evaluation time far enough back that every scrape
    // up to it is stored (scrape timeout 1 s): all queries then see the same samples.
    await new Promise((r) => setTimeout(r, 3_000));
    T = Math.round(Date.now() / 1000 - 2.5);
  }, 240_000);

  afterAll(async () => {
    await stack.stop();
    await sentry?.close();
  }, 30_000);

  // -------------------------------------------------------------------- helpers (need `prom`, `T`)
  const instant = async (query: string, at: number = T): Promise<Sample[]> =>
    (await prom.api<{ resultType: string; result: Sample[] }>('query', { query, time: String(at) }))
      .result;
  const matrix = async (sel: string, window: string, at: number = T): Promise<Series[]> => {
    const r = await prom.api<{ resultType: string; result: Series[] }>('query', {
      query: `${sel}[${window}]`,
      time: String(at),
    });
    expect(r.resultType).toBe('matrix');
    return r.result;
  };
  /** `increase`/`rate` of every series of `sel`, recomputed from its raw samples. */
  const recompute = async (sel: string, window: string, isRate = false, at: number = T) => {
    const rangeS = seconds(window);
    return (await matrix(sel, window, at))
      .map((s) => ({
        labels: s.metric,
        value: extrapolatedIncrease(points(s), at, rangeS, isRate),
      }))
      .filter((x): x is { labels: Labels; value: number } => x.value !== undefined)
      .map((x) => ({ labels: dropLabels(x.labels, WITHOUT_NAME), value: x.value }));
  };
  /** The query's answer equals `want` (label set → value), no more and no fewer series. */
  const expectVector = (actual: Sample[], want: Map<string, number>, label: string) => {
    const got = new Map(actual.map((s) => [labelKey(s.metric), Number(s.value[1])]));
    expect([...got.keys()].sort(), label).toEqual([...want.keys()].sort());
    for (const [k, v] of want) {
      const g = got.get(k)!;
      expect(close(g, v), `${label} ${k}: Prometheus ${g}, from the samples ${v}`).toBe(true);
    }
  };
  const one = (value: number) => new Map([[labelKey({}), value]]);
  const total = (xs: Array<{ value: number }>) => xs.reduce((n, x) => n + x.value, 0);
  const quantileBy = async (
    q: number,
    metric: string,
    by: string,
    window: string,
    keep: (l: Labels) => boolean = () => true,
  ) => {
    const rates = (await recompute(`${metric}_bucket`, window, true)).filter((r) => keep(r.labels));
    const groups = new Map<
      string,
      { labels: Labels; buckets: Array<{ le: number; count: number }> }
    >();
    for (const r of rates) {
      const pick = (): Labels =>
        by === '*' ? dropLabels(r.labels, ['le']) : by === '' ? {} : { [by]: r.labels[by]! };
      const labels = pick();
      const key = labelKey(labels);
      const g = groups.get(key) ?? { labels, buckets: [] };
      const le = r.labels.le === '+Inf' ? Infinity : Number(r.labels.le);
      const b = g.buckets.find((x) => x.le === le);
      if (b) b.count += r.value;
      else g.buckets.push({ le, count: r.value });
      groups.set(key, g);
    }
    return new Map(
      [...groups.values()].map((g) => [labelKey(g.labels), bucketQuantile(q, g.buckets)]),
    );
  };

  // ------------------------------------------------------------ SLO arithmetic (slo-rules.yml)
  const slo = loadSloSpec();
  const budgetOf = (name: SloName) => 1 - slo.slos[name].objective;
  /** The SLI's error ratio over `window` at `at`, recomputed from the raw samples. */
  const errorRatioAt = async (name: SloName, window: string, at: number): Promise<number> => {
    const ep = JSON.stringify(slo.endpoint);
    if (name === 'availability') {
      const all = total(
        await recompute(`requests_total{endpoint=${ep},method="POST"}`, window, true, at),
      );
      const bad = total(
        await recompute(
          `requests_total{endpoint=${ep},method="POST",status=~"5.."}`,
          window,
          true,
          at,
        ),
      );
      return bad / all;
    }
    const le = JSON.stringify(String(slo.slos.latency.threshold_ms));
    const all = total(
      await recompute(`request_latency_ms_count{endpoint=${ep}}`, window, true, at),
    );
    const good = total(
      await recompute(`request_latency_ms_bucket{endpoint=${ep},le=${le}}`, window, true, at),
    );
    return Math.max((all - good) / all, 0);
  };
  /**
   * Each series a recording rule wrote, with the time of the rule evaluation that wrote its
   * latest sample (a rule's value is what its expression gave then, not at `T`).
   */
  const recorded = async (sel: string) =>
    (await matrix(sel, '10s')).map((s) => {
      const last = s.values.at(-1)!;
      return { labels: s.metric, at: last[0], value: Number(last[1]) };
    });
  /** What `vakt_slo:<name>{…}` must hold: recomputed at each series' own evaluation time. */
  const sloExpect = async (
    sel: string,
    f: (name: SloName, window: string, at: number) => Promise<number>,
    keepName = true,
  ) => {
    const want = new Map<string, number>();
    for (const r of await recorded(sel)) {
      const labels = keepName ? r.labels : dropLabels(r.labels, WITHOUT_NAME);
      want.set(labelKey(labels), await f(r.labels.slo as SloName, r.labels.window!, r.at));
    }
    return want;
  };

  // ------------------------------------------------------- one trace id, joined everywhere
  it('a request sent with a known traceparent answers with that trace id (and vakt’s span) in traceparent', () => {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traced.headers.get('traceparent') ?? '');
    expect(m?.[1]).toBe(TRACE_ID);
    expect(m?.[2]).not.toBe('00f067aa0ba902b7');
    expect(traced.headers.get('Server-Timing')).toMatch(/^rate_limit;dur=\d/);
  });

  it('…and in its audit row (GET /admin/audit/{decision_id})', async () => {
    const row = await waitFor(
      'the traced decision in the audit log',
      async () => {
        const res = await vakt.admin(`/admin/audit/${tracedBody.decision_id}`);
        return res.status === 200 ? ((await res.json()) as { trace_id?: string }) : undefined;
      },
      30_000,
    );
    expect(row.trace_id).toBe(TRACE_ID);
  });

  it('…and in the Sentry event it caused (the failed rate limiter), as the event’s trace context', async () => {
    const events = await waitFor(
      'the Sentry events of the injected faults',
      async () => {
        const envelopes = await sentryEvents(sentry.port, SENTRY_PROJECT);
        return envelopes.some((e) => e.tags?.component === 'rate_limiter') ? envelopes : undefined;
      },
      30_000,
    );
    const spanId = /^00-[0-9a-f]{32}-([0-9a-f]{16})-01$/.exec(
      traced.headers.get('traceparent')!,
    )![1];
    const rl = events.filter((e) => e.tags?.component === 'rate_limiter');
    expect(rl).toHaveLength(1);
    expect(rl[0]!.contexts?.trace).toMatchObject({ trace_id: TRACE_ID, span_id: spanId });
    // The 500s were reported too, each under its own (new) trace.
    const d1 = events.filter((e) => e.tags?.route === '/v1/check' && !e.tags?.component);
    expect(d1.length).toBeGreaterThanOrEqual(1);
    for (const e of d1)
      expect((e.contexts!.trace as { trace_id: string }).trace_id).not.toBe(TRACE_ID);
  });

  it('…and in Prometheus’ exemplar API, on the latency buckets its slow request fell into', async () => {
    // The traced request took over TRACED_SLOW_MS (its rate limiter was slowed), and was the
    // last /v1/check request, so its exemplar is the newest of its bucket in both histograms.
    const exemplarsOf = async (query: string) =>
      prom.api<
        Array<{
          seriesLabels: Labels;
          exemplars: Array<{ labels: Labels; value: string; timestamp: number }>;
        }>
      >('query_exemplars', { query, start: String(T - 600), end: String(T + 60) });
    for (const [query, minMs] of [
      [`request_latency_ms_bucket{endpoint="/v1/check"}`, TRACED_SLOW_MS],
      [`governance_check_latency_ms_bucket{stage="rate_limit"}`, TRACED_SLOW_MS],
    ] as const) {
      const found = (await exemplarsOf(query)).flatMap((s) =>
        s.exemplars
          .filter((e) => e.labels.trace_id === TRACE_ID)
          .map((e) => ({ le: s.seriesLabels.le!, value: Number(e.value) })),
      );
      expect(found.length, query).toBeGreaterThanOrEqual(1);
      for (const f of found) {
        // The exemplar sits on the bucket that holds its value.
        expect(f.value, query).toBeGreaterThanOrEqual(minMs);
        expect(f.le === '+Inf' || f.value <= Number(f.le), `${query} le=${f.le}`).toBe(true);
      }
    }
    // Every exemplar Prometheus stored carries a well-formed trace id and nothing else.
    for (const s of await exemplarsOf('request_latency_ms_bucket'))
      for (const e of s.exemplars) expect(Object.keys(e.labels)).toEqual(['trace_id']);
  });

  // ------------------------------------------------------------------------------ the raw data
  it('scrapes vakt with the bearer token from grafana/prometheus.yml (and vakt refuses it without)', async () => {
    const up = await instant('up');
    expect(up.map((s) => [s.metric.job, s.value[1]])).toEqual([['vakt-local', '1']]);
    expect((await vakt.fetch('/metrics')).status).toBe(401);
  });

  it('stores samples that start at the phase-1 counts and end at the totals the traffic implies (requests_total[1h] and the rest)', async () => {
    for (const e of expected) {
      const series = await matrix(selector(e), '1h');
      expect(series.length, selector(e)).toBe(1);
      const pts = points(series[0]!);
      expect(pts.length, selector(e)).toBeGreaterThanOrEqual(5);
      expect([pts[0]!.v, pts.at(-1)!.v], selector(e)).toEqual([e.v0, e.v1]);
    }
    // The original "What happened?" query, verbatim: a range vector of every requests series.
    const all = await matrix('requests_total', '1h');
    for (const e of expected.filter((x) => x.name === 'requests_total')) {
      expect(
        all.some(
          (s) =>
            labelKey(dropLabels(s.metric, ['__name__', 'job', 'instance', 'env'])) ===
            labelKey(e.labels),
        ),
      ).toBe(true);
    }
    // The only 5xx are the injected D1 outages on /v1/check.
    expect(
      all
        .filter((s) => s.metric.status?.startsWith('5'))
        .map((s) => [s.metric.method, s.metric.endpoint, s.metric.status]),
    ).toEqual([['POST', '/v1/check', '500']]);
  });

  // ------------------------------------------------- every query of the original documentation
  it('rate(requests_total[5m])', async () => {
    const want = await recompute('requests_total', '5m', true);
    expectVector(
      await instant('rate(requests_total[5m])'),
      new Map(want.map((w) => [labelKey(w.labels), w.value])),
      'rate',
    );
    // Read as traffic: 4 + TX2 × 429 (request quota, token quota) in phase 2 over a 300 s window.
    const r429 = want.find((w) => w.labels.status === '429')!;
    expect(r429.value * 300).toBeGreaterThanOrEqual(4 + TX2);
    expect(r429.value * 300).toBeLessThan((4 + TX2) * 1.5);
  });

  it('increase(governance_allowed_total[1h]) / (… + increase(governance_blocked_total[1h])) — the original ratio is empty; the summed ratio is right', async () => {
    // The documented query matches series one-to-one on all labels; blocked has `reason`,
    // allowed has not, so nothing matches and Prometheus answers with an empty vector.
    expect(
      await instant(
        'increase(governance_allowed_total[1h]) / (increase(governance_allowed_total[1h]) + increase(governance_blocked_total[1h]))',
      ),
    ).toEqual([]);
    const allowed = total(await recompute('governance_allowed_total', '1h'));
    const blocked = total(await recompute('governance_blocked_total', '1h'));
    expectVector(
      await instant(
        'sum(increase(governance_allowed_total[1h])) / (sum(increase(governance_allowed_total[1h])) + sum(increase(governance_blocked_total[1h])))',
      ),
      one(allowed / (allowed + blocked)),
      'ratio',
    );
    // Phase 2: 10 allowed (5 + 4 slow + the traced one) + the monitored, 15 blocked (21 with
    // contains_secret).
    expect(allowed / (allowed + blocked)).toBeCloseTo((10 + M2) / (25 + S2 + M2), 1);
  });

  it.each([0.95, 0.99])(
    'histogram_quantile(%s, rate(request_latency_ms_bucket[5m]))',
    async (q) => {
      const want = await quantileBy(q, 'request_latency_ms', '*', '5m');
      const got = await instant(`histogram_quantile(${q}, rate(request_latency_ms_bucket[5m]))`);
      expectVector(got, want, `p${q * 100}`);
      expect(got.map((s) => s.metric.endpoint)).toContain('/v1/check');
      // Busy routes get a latency; a route idle in the window (/admin/keys) gets NaN (0/0).
      const check = Number(got.find((s) => s.metric.endpoint === '/v1/check')!.value[1]);
      expect(check).toBeGreaterThan(0);
      // Against the latencies actually sent: the window holds phase 2's requests, each recorded
      // at most at its client-side time, so the q-quantile lies at or below the client's
      // q-quantile and histogram_quantile at or below the bucket edge above it (+1 ms for the
      // runtime clock's granularity).
      const sent = [...phase2CheckMs].sort((a, b) => a - b);
      const count = expected.find(
        (e) => e.name === 'request_latency_ms_count' && e.labels.endpoint === '/v1/check',
      )!;
      expect(sent.length).toBe(count.v1 - count.v0);
      const clientQ = sent[Math.ceil(q * sent.length) - 1]!;
      const edges = REQUEST_LATENCY_BUCKETS_MS.filter((le) => le >= clientQ + 1);
      expect(check).toBeLessThanOrEqual(edges[0] ?? Infinity);
      expect(Number(got.find((s) => s.metric.endpoint === '/admin/keys')!.value[1])).toBeNaN();
    },
  );

  it('rate(rate_limit_hits_total[1m]) and topk(5, rate_limit_hits_total)', async () => {
    const want = await recompute('rate_limit_hits_total', '1m', true);
    expect(want.map((w) => w.labels.api_key_id)).toEqual([keys.rl.id]);
    expectVector(
      await instant('rate(rate_limit_hits_total[1m])'),
      new Map(want.map((w) => [labelKey(w.labels), w.value])),
      'rate 1m',
    );
    const top = await instant('topk(5, rate_limit_hits_total)');
    expect(top.map((s) => [s.metric.api_key_id, s.value[1]])).toEqual([[keys.rl.id, '5']]);
  });

  it('async_logger_queue_size (queued − written − dropped)', async () => {
    const v = async (q: string) => Number((await instant(q))[0]?.value[1]);
    const [size, queued, written, dropped] = await Promise.all([
      v('async_logger_queue_size'),
      v('logs_queued_total'),
      v('logs_written_total'),
      v('logs_dropped_total'),
    ]);
    expect(queued).toBe(expected.find((e) => e.name === 'logs_queued_total')!.v1);
    expect(size).toBe(Math.max(0, queued - written - dropped));
    expect(await v('async_logger_queue_maxsize')).toBe(1000);
  });

  it('sum(increase(governance_blocked_total[1h])) by (reason) and increase(governance_blocked_total[1h])', async () => {
    const per = await recompute('governance_blocked_total', '1h');
    expectVector(
      await instant('increase(governance_blocked_total[1h])'),
      new Map(per.map((w) => [labelKey(w.labels), w.value])),
      'increase',
    );
    const byReason = sumBy(per, ['reason']);
    expectVector(
      await instant('sum(increase(governance_blocked_total[1h])) by (reason)'),
      byReason,
      'by reason',
    );
    // Read as traffic: phase 2 sent 1, 2, 3, 4, 5 (and 6) of the reasons. Extrapolation to the
    // window's edges stretches an increase by at most ~1.6 scrape intervals over the ≥ 5
    // intervals sampled, so each lies in [sent, 1.5 × sent).
    const sent: Record<string, number> = {
      model_not_allowed: 1,
      external_model_detected: 2,
      operation_not_allowed: 3,
      contains_personal_data: 4,
      input_too_large: 5,
      contains_secret: 6,
    };
    const got = Object.fromEntries([...byReason].map(([k, v]) => [JSON.parse(k)[0][1], v]));
    expect(Object.keys(got).sort()).toEqual(Object.keys(sent).sort());
    for (const [reason, n] of Object.entries(sent)) {
      expect(got[reason], reason).toBeGreaterThanOrEqual(n);
      expect(got[reason], reason).toBeLessThan(n * 1.5);
    }
  });

  it('increase(requests_total{status=~"5.*"}[1h]) counts the injected 500s', async () => {
    const want = await recompute('requests_total{status=~"5.*"}', '1h');
    expectVector(
      await instant('increase(requests_total{status=~"5.*"}[1h])'),
      new Map(want.map((w) => [labelKey(w.labels), w.value])),
      'increase 5xx',
    );
    // Read as traffic: 3 in phase 2, stretched by extrapolation by less than half.
    expect(total(want)).toBeGreaterThanOrEqual(3);
    expect(total(want)).toBeLessThan(4.5);
  });

  it('avg(rate(request_latency_ms_sum[5m]) / rate(request_latency_ms_count[5m]))', async () => {
    const sums = await recompute('request_latency_ms_sum', '5m', true);
    const counts = await recompute('request_latency_ms_count', '5m', true);
    // Per route 0/0 is NaN for a route idle in the window (here /admin/keys), and avg() of
    // anything with a NaN is NaN — the original query's answer whenever one route is idle.
    const ratios = sums.map(
      (s) => s.value / counts.find((c) => labelKey(c.labels) === labelKey(s.labels))!.value,
    );
    expect(ratios.some(Number.isNaN)).toBe(true);
    const want = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expectVector(
      await instant('avg(rate(request_latency_ms_sum[5m]) / rate(request_latency_ms_count[5m]))'),
      one(want),
      'avg',
    );
    // The robust form (what docs/observability.md recommends): total time / total requests.
    const mean = total(sums) / total(counts);
    expect(mean).toBeGreaterThan(0);
    expectVector(
      await instant(
        'sum(rate(request_latency_ms_sum[5m])) / sum(rate(request_latency_ms_count[5m]))',
      ),
      one(mean),
      'mean',
    );
  });

  it('the original alert rules and troubleshooting query: requests_total; quiet alerts for this traffic', async () => {
    // "Grafana no data → Query: requests_total": every traffic-determined series at its total.
    const now = await instant('requests_total');
    for (const e of expected.filter((x) => x.name === 'requests_total')) {
      const s = now.find(
        (x) =>
          labelKey(dropLabels(x.metric, ['__name__', 'job', 'instance', 'env'])) ===
          labelKey(e.labels),
      );
      expect(s?.value[1], selector(e)).toBe(String(e.v1));
    }
    // prometheus-rules.yml of the original, verbatim: none holds for this traffic.
    for (const expr of [
      'rate(requests_total{status=~"5.*"}[5m]) > 0.05',
      'rate(rate_limit_hits_total[5m]) > 10',
      'async_logger_queue_size > 800',
    ])
      expect(await instant(expr), expr).toEqual([]);
  });

  // ------------------------------------------------------------ every panel of the dashboard
  const dashboard = JSON.parse(
    readFileSync(path.join(ROOT, 'grafana/dashboard.json'), 'utf8'),
  ) as DashboardDoc;
  const panelQueries = dashboardQueries(dashboard);

  /** A variable selection: the values picked per variable, or none (= "All"). */
  type Selection = Partial<Record<VariableName, readonly string[]>>;
  /** Whether a series passes the selection (a variable filters only series with its label). */
  const passes = (sel: Selection) => (l: Labels) =>
    Object.entries(sel).every(([k, v]) => l[k] === undefined || v.includes(l[k]));
  const perMinute = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, 60 * v]));
  const client = (l: Labels) => l.endpoint !== '/metrics';

  /** What each dashboard query must answer for a selection, recomputed from the raw samples. */
  const panelExpectations: Record<string, (sel: Selection) => Promise<Map<string, number>>> = {
    [QUERIES.totalRequests]: async (sel) =>
      one(
        total(
          (await recompute('requests_total', '5m')).filter(
            (x) => client(x.labels) && passes(sel)(x.labels),
          ),
        ),
      ),
    [QUERIES.allowed]: async (sel) =>
      one(
        total(
          (await recompute('governance_allowed_total', '5m')).filter((x) => passes(sel)(x.labels)),
        ),
      ),
    [QUERIES.blocked]: async (sel) =>
      one(
        total(
          (await recompute('governance_blocked_total', '5m')).filter((x) => passes(sel)(x.labels)),
        ),
      ),
    [QUERIES.rateLimitHits]: async (sel) =>
      one(
        total(
          (await recompute('rate_limit_hits_total', '5m')).filter((x) => passes(sel)(x.labels)),
        ),
      ),
    [QUERIES.latencyP95]: (sel) =>
      quantileBy(0.95, 'request_latency_ms', 'endpoint', '5m', passes(sel)),
    [QUERIES.requestsByEndpoint]: async (sel) =>
      sumBy(
        (await recompute('requests_total', '5m', true)).filter(
          (x) => client(x.labels) && passes(sel)(x.labels),
        ),
        ['endpoint'],
      ),
    // (QUERIES.checkLatencyOverTime is the same PromQL as checkLatencyP95, drawn over time.)
    [QUERIES.queueDepth]: () => queueDepth(),
    [QUERIES.queueMax]: async () =>
      new Map([[labelKey({ __name__: 'async_logger_queue_maxsize', ...baseLabels() }), 1000]]),
    [QUERIES.logsWritten]: async () =>
      one(60 * total(await recompute('logs_written_total', '5m', true))),
    [QUERIES.logsQueued]: async () =>
      one(60 * total(await recompute('logs_queued_total', '5m', true))),
    [QUERIES.logsDropped]: async () =>
      one(60 * total(await recompute('logs_dropped_total', '5m', true))),
    [QUERIES.checkLatencyP95]: () => quantileBy(0.95, 'governance_check_latency_ms', 'stage', '5m'),
    [QUERIES.findingsByType]: async () =>
      sumBy(await recompute('governance_findings_total', '1h'), ['type', 'action']),
    [QUERIES.blockedByReason]: async (sel) =>
      sumBy(
        (await recompute('governance_blocked_total', '1h')).filter((x) => passes(sel)(x.labels)),
        ['reason'],
      ),
    [QUERIES.errorRate5xx]: async (sel) => {
      const rates = (await recompute('requests_total', '5m', true)).filter(
        (x) => client(x.labels) && passes(sel)(x.labels),
      );
      const bad = total(rates.filter((x) => x.labels.status!.startsWith('5')));
      return one((100 * bad) / total(rates));
    },
    // The SLO row reads recorded series; each is recomputed at its own evaluation time.
    [QUERIES.budgetRemaining]: () =>
      sloExpect(
        'vakt_slo:burn_rate{window="30d"}',
        async (n, w, at) => 1 - (await errorRatioAt(n, w, at)) / budgetOf(n),
        false,
      ),
    [QUERIES.burnRate]: () =>
      sloExpect(QUERIES.burnRate, async (n, w, at) => (await errorRatioAt(n, w, at)) / budgetOf(n)),
    [QUERIES.sli1h]: () =>
      sloExpect(
        'vakt_slo:error_ratio{window="1h"}',
        async (n, w, at) => 1 - (await errorRatioAt(n, w, at)),
        false,
      ),
    [QUERIES.sliPeriod]: () =>
      sloExpect(
        `vakt_slo:error_ratio{window="${slo.period}"}`,
        async (n, w, at) => 1 - (await errorRatioAt(n, w, at)),
        false,
      ),
    [QUERIES.objective]: async () =>
      new Map(
        SLO_NAMES.map((n) => [
          labelKey({ __name__: 'vakt_slo:objective', slo: n }),
          slo.slos[n].objective,
        ]),
      ),
    [QUERIES.checkLatencyP99]: () =>
      quantileBy(0.99, 'request_latency_ms', '', '5m', (l) => l.endpoint === slo.endpoint),
    [QUERIES.monitored]: async (sel) =>
      one(
        total(
          (await recompute('governance_monitored_total', '5m')).filter((x) =>
            passes(sel)(x.labels),
          ),
        ),
      ),
    [QUERIES.monitoredByReason]: async (sel) =>
      sumBy(
        (await recompute('governance_monitored_total', '1h')).filter((x) => passes(sel)(x.labels)),
        ['reason'],
      ),
    [QUERIES.tokensPerMinute]: async (sel) =>
      perMinute(
        sumBy(
          (await recompute('tokens_total', '5m', true)).filter((x) => passes(sel)(x.labels)),
          ['model', 'direction'],
        ),
      ),
    [QUERIES.tokenQuotaRefusals]: async (sel) =>
      perMinute(
        sumBy(
          (await recompute('token_quota_refusals_total', '5m', true)).filter((x) =>
            passes(sel)(x.labels),
          ),
          ['api_key_id', 'reason'],
        ),
      ),
  };
  const baseLabels = (): Labels => ({
    env: 'local',
    instance: new URL(vakt.url).host,
    job: 'vakt-local',
  });
  /** async_logger_queue_size with nothing lost: equal to queued − written − dropped (never below 0). */
  const queueDepth = async () => {
    const v = async (q: string) => Number((await instant(q))[0]!.value[1]);
    const backlog =
      (await v('logs_queued_total')) -
      (await v('logs_written_total')) -
      (await v('logs_dropped_total'));
    return new Map([
      [labelKey({ __name__: 'async_logger_queue_size', ...baseLabels() }), Math.max(0, backlog)],
    ]);
  };

  it('covers every panel query of grafana/dashboard.json', () => {
    expect([...new Set(panelQueries.map((q) => q.expr))].sort()).toEqual(
      Object.keys(panelExpectations).sort(),
    );
  });

  it.each(panelQueries.map((q) => [`${q.panel} / ${q.refId}`, q.expr]))(
    'dashboard panel %s answers what the traffic implies (variables at All)',
    async (_title, expr) => {
      const want = await panelExpectations[expr]!({});
      const got = await instant(interpolate(expr));
      expect(got.length, `${expr} returned no data`).toBeGreaterThan(0);
      expectVector(got, want, expr);
    },
  );

  /**
   * Values the traffic produced, to filter by: one endpoint, one model, and two API keys (Grafana's
   * multi-value alternation), the rate-limited one and the token-refused one.
   */
  const selection = (): Selection => ({
    endpoint: ['/v1/check'],
    model: ['gpt-4'],
    api_key_id: [keys.rl.id, keys.tok.id],
  });

  it.each(
    panelQueries
      .filter((q) => q.expr.includes('$'))
      .map((q) => [`${q.panel} / ${q.refId}`, q.expr]),
  )(
    'dashboard panel %s filtered by one endpoint, one model and two API keys answers for exactly those',
    async (_title, expr) => {
      const sel = selection();
      const used = Object.keys(VARIABLES).filter((v) => expr.includes(`$${v}`)) as VariableName[];
      const picked = Object.fromEntries(used.map((v) => [v, sel[v]!]));
      const want = await panelExpectations[expr]!(
        Object.fromEntries(used.map((v) => [v, sel[v]])) as Selection,
      );
      const got = await instant(interpolate(expr, picked));
      expectVector(got, want, expr);
      // And a value no series has selects nothing.
      const none = Object.fromEntries(used.map((v) => [v, ['no-such-value']]));
      expect(await instant(interpolate(expr, none)), expr).toEqual([]);
    },
  );

  it('offers the variable values the traffic produced (label_values queries, as Grafana asks)', async () => {
    const values = async (name: VariableName) => {
      const m = /^label_values\((.*), (\w+)\)$/.exec(VARIABLES[name].query)!;
      const r = await fetch(
        `${prom.url}/api/v1/label/${m[2]}/values?${new URLSearchParams({ 'match[]': m[1]! })}`,
      );
      return ((await r.json()) as { data: string[] }).data;
    };
    // Audit-row lookups (before each usage report, and of the traced request) come and go.
    const endpoints = (await values('endpoint')).filter((e) => e !== '/admin/audit/{decision_id}');
    expect(endpoints).toEqual(['/admin/keys', '/health', '/v1/check', '/v1/usage', 'unmatched']);
    expect(await values('model')).toEqual(['claude-*', 'external-model', 'gpt-4']);
    expect(await values('api_key_id')).toEqual([keys.rl.id, keys.tok.id].sort());
  });

  it('dashboard stats read as the traffic: 10 (+2 monitored) allowed, 15 blocked, 4 rate-limited, 2 monitored in the window', async () => {
    const val = async (q: string) => Number((await instant(interpolate(q)))[0]!.value[1]);
    // Extrapolation stretches the increase to the window edge: at most half a scrape interval
    // before the first and 1.1 after the last sample, relative to the ~10 s this test samples.
    for (const [q, n] of [
      [QUERIES.allowed, 10 + M2],
      [QUERIES.blocked, 15 + S2],
      [QUERIES.rateLimitHits, 4],
      [QUERIES.monitored, M2],
    ] as const) {
      const v = await val(q);
      expect(v, q).toBeGreaterThanOrEqual(n);
      expect(v, q).toBeLessThan(n * 1.5);
    }
    const endpoints = (await instant(interpolate(QUERIES.requestsByEndpoint)))
      .map((s) => s.metric.endpoint)
      .sort();
    expect(endpoints).toEqual([
      '/admin/audit/{decision_id}',
      '/admin/keys',
      '/health',
      '/v1/check',
      '/v1/usage',
      'unmatched',
    ]);
    const stages = (await instant(QUERIES.checkLatencyP95)).map((s) => s.metric.stage).sort();
    expect(stages).toEqual(['logging', 'rate_limit', 'scoring', 'validation']);
  });

  it('token panels read as the traffic: phase 2’s refusals per key and reason, its tokens per model', async () => {
    // Per minute over 5 minutes: × 5 is the window's extrapolated increase (bounds as above).
    const refusals = (await instant(interpolate(QUERIES.tokenQuotaRefusals))).sort((x, y) =>
      x.metric.reason! < y.metric.reason! ? -1 : 1,
    );
    expect(refusals.map((s) => [s.metric.api_key_id, s.metric.reason])).toEqual([
      [keys.tok.id, 'exceeded'],
      [keys.tok.id, 'too_large'],
    ]);
    for (const [s, n] of [
      [refusals[0]!, TX2],
      [refusals[1]!, TL2],
    ] as const) {
      expect(Number(s.value[1]) * 5, s.metric.reason).toBeGreaterThanOrEqual(n);
      expect(Number(s.value[1]) * 5, s.metric.reason).toBeLessThan(n * 1.5);
    }
    const tokens = await instant(interpolate(QUERIES.tokensPerMinute));
    expect(tokens.map((s) => `${s.metric.model} ${s.metric.direction}`).sort()).toEqual(
      [...tokensSent[1].keys()].sort(),
    );
    expect(tokensSent[1].get('gpt-4 output')).toBe(OUT[1]);
    for (const s of tokens) {
      const k = `${s.metric.model} ${s.metric.direction}`;
      const n = tokensSent[1].get(k)!;
      expect(Number(s.value[1]) * 5, k).toBeGreaterThanOrEqual(n);
      expect(Number(s.value[1]) * 5, k).toBeLessThan(n * 1.5);
    }
  });

  // ---------------------------------------------------------------- every alert expression
  const rules = (
    YAML.parse(readFileSync(path.join(ROOT, 'grafana/alerts.yml'), 'utf8')).groups as Array<{
      rules: Array<{ alert: string; expr: string }>;
    }>
  ).flatMap((g) => g.rules);

  /** Every rule of both committed rule files, in file order. */
  const allRules = ['alerts.yml', 'slo-rules.yml'].flatMap((f) =>
    (
      YAML.parse(readFileSync(path.join(ROOT, 'grafana', f), 'utf8')).groups as Array<{
        rules: Array<{ alert?: string; record?: string }>;
      }>
    ).flatMap((g) => g.rules.map((r) => r.alert ?? r.record!)),
  );
  interface RuleState {
    name: string;
    type: 'alerting' | 'recording';
    health: string;
    state?: string;
    lastError?: string;
    labels?: Record<string, string>;
    alerts?: Array<{ labels: Record<string, string> }>;
  }
  const ruleGroups = () =>
    prom.api<{ groups: Array<{ name: string; lastEvaluation: string; rules: RuleState[] }> }>(
      'rules',
    );

  it('loads alerts.yml and slo-rules.yml: every rule evaluates without error; TokenQuotaExhausted is pending for the token key, the other alerts stay quiet', async () => {
    await waitFor(
      'one evaluation of every rule',
      async () => {
        const all = (await ruleGroups()).groups.flatMap((g) => g.rules) as Array<
          RuleState & { lastEvaluation: string }
        >;
        return all.length === allRules.length &&
          all.every((r) => !r.lastEvaluation.startsWith('0001'))
          ? true
          : undefined;
      },
      15_000,
    );
    const all = (await ruleGroups()).groups.flatMap((g) => g.rules);
    expect(all.map((r) => [r.name, r.health, r.lastError ?? ''])).toEqual(
      allRules.map((r) => [r, 'ok', '']),
    );
    // The token key was refused in the last 5 minutes, but not for 15: pending, not firing.
    for (const r of all.filter((x) => rules.some((o) => o.alert === x.name)))
      expect(r.state, r.name).toBe(r.name === 'TokenQuotaExhausted' ? 'pending' : 'inactive');
    const pending = all.find((r) => r.name === 'TokenQuotaExhausted')!;
    expect(pending.alerts?.map((a) => a.labels)).toEqual([
      { ...baseLabels(), api_key_id: keys.tok.id, alertname: pending.name, severity: 'warning' },
    ]);
  });

  it('fires exactly the SLO burn-rate alerts whose long and short windows both burn too fast', async () => {
    // Read the alert states and the burn rates of the same group evaluation.
    const group = (await ruleGroups()).groups.find((g) => g.name === 'vakt-slo')!;
    const at = Date.parse(group.lastEvaluation) / 1000;
    const burn = new Map(
      (await instant('vakt_slo:burn_rate', at)).map((x) => [
        `${x.metric.slo}/${x.metric.window}`,
        Number(x.value[1]),
      ]),
    );
    for (const name of SLO_NAMES) {
      for (const a of slo.alerts) {
        const rule = group.rules.find((r) => r.name === alertName(name, a.long))!;
        const long = burn.get(`${name}/${a.long}`)!;
        const short = burn.get(`${name}/${a.short}`)!;
        expect(Number.isFinite(long) && Number.isFinite(short), rule.name).toBe(true);
        const firing = long > a.burn_rate && short > a.burn_rate;
        expect(rule.state, `${rule.name}: burn ${long} / ${short} vs ${a.burn_rate}`).toBe(
          firing ? 'firing' : 'inactive',
        );
        if (firing)
          expect(rule.alerts?.map((x) => x.labels)).toEqual([
            expect.objectContaining({
              slo: name,
              window: a.long,
              severity: a.severity,
              job: 'vakt-local',
            }),
          ]);
      }
    }
  });

  it('records SLIs that match the traffic at every window (vakt_slo:error_ratio and burn_rate)', async () => {
    expectVector(
      await instant('vakt_slo:error_ratio'),
      await sloExpect('vakt_slo:error_ratio', (n, w, t) => errorRatioAt(n, w, t)),
      'error_ratio',
    );
    // Read as traffic: the 500s make every availability window's ratio positive.
    for (const x of await instant('vakt_slo:error_ratio{slo="availability"}'))
      expect(Number(x.value[1]), x.metric.window).toBeGreaterThan(0);
    // And the latency SLI's bad events include every injected slow request: in the raw samples
    // (exact counts, no extrapolation) at least 4 slow + the traced one exceeded 50 ms in phase 2.
    const first = async (sel: string) => {
      const [series] = await matrix(sel, '1h');
      const pts = points(series!);
      return pts.at(-1)!.v - pts[0]!.v;
    };
    const slow =
      (await first('request_latency_ms_count{endpoint="/v1/check"}')) -
      (await first('request_latency_ms_bucket{endpoint="/v1/check",le="50"}'));
    expect(slow).toBeGreaterThanOrEqual(5);
    for (const x of await instant('vakt_slo:error_ratio{slo="latency",window="5m"}'))
      expect(Number(x.value[1])).toBeGreaterThan(0);
  });

  /** What the left-hand side of each alert (its expression without the threshold) must answer. */
  const alertSides: Record<string, () => Promise<Map<string, number>>> = {
    HighErrorRate: async () =>
      sumBy(
        (await recompute('requests_total{status=~"5.."}', '5m', true)).map((w) => ({
          labels: dropLabels(w.labels, ['method', 'status']),
          value: w.value,
        })),
        ['env', 'instance', 'job', 'endpoint'],
      ),
    RateLimitSpike: async () =>
      new Map(
        (await recompute('rate_limit_hits_total', '5m', true)).map((w) => [
          labelKey(w.labels),
          w.value,
        ]),
      ),
    QueueBackup: () => queueDepth(),
    AuditDeadLetters: async () =>
      new Map(
        (await recompute('logs_dropped_total', '10m')).map((w) => [labelKey(w.labels), w.value]),
      ),
    VaktScrapeDown: async () => new Map([[labelKey({ ...baseLabels(), __name__: 'up' }), 1]]),
    TokenQuotaExhausted: async () =>
      sumBy(
        (await recompute('token_quota_refusals_total{reason="exceeded"}', '5m')).map((w) => ({
          labels: dropLabels(w.labels, ['reason']),
          value: w.value,
        })),
        ['env', 'instance', 'job', 'api_key_id'],
      ),
  };

  it.each(rules.map((r) => [r.alert, r.expr]))(
    'alert %s: its measured side has the expected data, and the expression holds exactly where that passes its threshold (here: TokenQuotaExhausted, for the token key)',
    async (alert, expr) => {
      const m = /^(.*) (>|==) ([\d.]+)$/s.exec(expr.trim());
      expect(m, expr).not.toBeNull();
      const [, side, op, threshold] = m!;
      const want = await alertSides[alert]!();
      expectVector(await instant(side!), want, `${alert}: ${side}`);
      const holds = new Map(
        [...want].filter(([, v]) => (op === '>' ? v > Number(threshold) : v === Number(threshold))),
      );
      expectVector(await instant(expr), holds, expr);
      // This traffic crosses one threshold: the token key's refusals in the last 5 minutes.
      expect([...holds.keys()], alert).toEqual(
        alert === 'TokenQuotaExhausted'
          ? [labelKey({ ...baseLabels(), api_key_id: keys.tok.id })]
          : [],
      );
    },
  );
});

function selector(e: { name: string; labels: Labels }): string {
  const l = Object.entries(e.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${e.name}{${l.join(',')}}`;
}

function dropLabels(labels: Labels, drop: readonly string[]): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !drop.includes(k)));
}
