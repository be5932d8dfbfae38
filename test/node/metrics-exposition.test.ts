/**
 * The renderer's output, checked by real parsers: promtool (0.0.4 lint + Prometheus' own
 * OpenMetrics parser), prometheus_client (0.0.4 and strict OpenMetrics 1.0) and
 * parse-prometheus-text-format. Every parsed sample must equal the state it was rendered from.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { mergeSnapshots, SeriesTable, type SeriesState } from '../../src/metrics/aggregate';
import { METRIC_DEFINITIONS, type MetricDefinition } from '../../src/metrics/definitions';
import { formatValue, renderExposition, type GaugeValue } from '../../src/metrics/exposition';
import { MetricsRecorder } from '../../src/metrics/recorder';
import {
  CONTRACT_LINT,
  promtoolCheckMetrics,
  promtoolParseOpenMetrics,
  pythonParse,
  toolsAvailable,
  type ParsedSample,
} from './metrics-tools';

const DEFS: Record<string, MetricDefinition> = METRIC_DEFINITIONS;
const NASTY = ['back\\slash', 'quote"d', 'new\nline', 'æøå 🚀', '', '{x="y"}', 'trailing\\'];

/** Two shards' worth of traffic, with label values that need escaping. */
function stripExemplars(states: SeriesState[]): SeriesState[] {
  return states.map((x) => {
    if (x.kind !== 'histogram') return x;
    const { exemplars: _drop, ...rest } = x;
    return rest;
  });
}

/** A distinct, valid W3C trace id per (i, shard). */
const traceId = (i: number, shard: number) =>
  `${shard.toString(16)}${i.toString(16).padStart(4, '0')}`.padEnd(31, 'a') + 'f';

function state(): SeriesState[] {
  const shards = [0, 1].map((shard) => {
    const r = new MetricsRecorder();
    for (const [i, v] of NASTY.entries()) {
      r.inc(
        'governance_blocked_total',
        { model: 'gpt-4', operation: v, reason: 'contains_secret' },
        i + 1,
      );
      r.inc('requests_total', { method: 'POST', endpoint: v, status: '200' }, 1 + shard);
      // Every other observation carries a trace id: it becomes its bucket's exemplar.
      r.observe(
        'request_latency_ms',
        { endpoint: v },
        i * 700 + shard,
        i % 2 === 0 ? traceId(i, shard) : undefined,
      );
    }
    for (let i = 0; i < 300; i++) r.inc('rate_limit_hits_total', { api_key_id: `key-${i}` }, i % 7);
    r.inc('governance_allowed_total', { model: 'claude-3', operation: 'chat' }, 41);
    for (const [i, ms] of [0.05, 0.1, 0.2, 3, 999, 2000].entries())
      r.observe('governance_check_latency_ms', { stage: 'scoring' }, ms, traceId(100 + i, shard));
    r.inc('logs_queued_total', {}, 10);
    r.inc('logs_written_total', {}, 7);
    const t = new SeriesTable();
    t.commit(t.plan(r.drain(), shard).updates);
    return t.all();
  });
  return mergeSnapshots(shards);
}

const GAUGES: GaugeValue[] = [
  { name: 'async_logger_queue_size', value: 6 },
  { name: 'async_logger_queue_maxsize', value: 1000 },
];

/** The samples the exposition must contain, computed from the state, not from the text. */
function expectedSamples(series: SeriesState[]): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const s of series) {
    const def = DEFS[s.name]!;
    const labels = Object.fromEntries(def.labels.map((l, i) => [l, s.labels[i]!]));
    if (s.kind === 'counter') {
      out.push({ name: s.name, labels, value: s.value });
      continue;
    }
    let cumulative = 0;
    (def.buckets ?? []).forEach((b, i) => {
      cumulative += s.buckets[i]!;
      out.push({
        name: `${s.name}_bucket`,
        labels: { ...labels, le: formatValue(b) },
        value: cumulative,
      });
    });
    out.push({ name: `${s.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count });
    out.push({ name: `${s.name}_count`, labels, value: s.count });
    out.push({ name: `${s.name}_sum`, labels, value: s.sum });
  }
  for (const g of GAUGES) out.push({ name: g.name, labels: {}, value: g.value });
  return normalise(out);
}

function normalise(samples: ParsedSample[]): ParsedSample[] {
  return samples
    .map((s) => ({
      name: s.name,
      labels: Object.fromEntries(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1))),
      value: s.value,
    }))
    .sort((a, b) => {
      const x = JSON.stringify([a.name, a.labels]);
      const y = JSON.stringify([b.name, b.labels]);
      return x < y ? -1 : x > y ? 1 : 0;
    });
}

/** prometheus_client normalises `le` to a float string ("1.0"); compare bounds numerically. */
function canonicalLe(samples: ParsedSample[]): ParsedSample[] {
  return samples.map((s) =>
    s.labels.le === undefined
      ? s
      : {
          ...s,
          labels: {
            ...s.labels,
            le: s.labels.le === '+Inf' ? '+Inf' : String(Number(s.labels.le)),
          },
        },
  );
}

const series = state();
const prom = renderExposition(series, GAUGES, 'prometheus');
const om = renderExposition(series, GAUGES, 'openmetrics');

describe('exposition, parsed by parse-prometheus-text-format', () => {
  it('reads every family with HELP and TYPE, and every counter and gauge value', () => {
    const families = parsePrometheusTextFormat(prom);
    expect(families.map((f) => f.name)).toEqual(Object.keys(METRIC_DEFINITIONS));
    for (const f of families) {
      expect(f.help).toBe(DEFS[f.name]!.help);
      expect(f.type).toBe(DEFS[f.name]!.type.toUpperCase());
    }
    const flat: ParsedSample[] = families
      .filter((f) => f.type !== 'HISTOGRAM')
      .flatMap((f) =>
        f.metrics.map((m) => ({ name: f.name, labels: m.labels ?? {}, value: Number(m.value) })),
      );
    const want = expectedSamples(series).filter(
      (s) => DEFS[s.name]?.type !== 'histogram' && !/_(bucket|sum|count)$/.test(s.name),
    );
    expect(normalise(flat)).toEqual(want);
  });
});

describe.runIf(toolsAvailable('exposition checks'))(
  'exposition, checked by Prometheus tools',
  () => {
    it('0.0.4 passes promtool check metrics (only the contract-mandated unit lint remains)', () => {
      const { code, problems } = promtoolCheckMetrics(prom);
      expect(problems.filter((p) => !CONTRACT_LINT.includes(p))).toEqual([]);
      expect([0, 3]).toContain(code); // 3 = lint findings only, 1 would be a parse error
    });

    it('promtool catches a broken exposition (the check can fail)', () => {
      const broken = prom.replace('requests_total{method="POST"', 'requests_total{method="POST');
      expect(promtoolCheckMetrics(broken).code).toBe(1);
    });

    it('0.0.4 parses with prometheus_client to exactly the rendered state', () => {
      const parsed = pythonParse(prom, 'prometheus');
      expect(parsed.map((f) => f.name)).toEqual(
        Object.keys(METRIC_DEFINITIONS).map((n) => n.replace(/_total$/, '')),
      );
      const samples = parsed.flatMap((f) => f.samples);
      expect(canonicalLe(normalise(samples))).toEqual(canonicalLe(expectedSamples(series)));
    });

    it('OpenMetrics parses with the strict prometheus_client parser to exactly the rendered state', () => {
      const parsed = pythonParse(om, 'openmetrics');
      const types = Object.fromEntries(parsed.map((f) => [f.name, f.type]));
      expect(types).toMatchObject({
        requests: 'counter',
        request_latency_ms: 'histogram',
        async_logger_queue_size: 'gauge',
      });
      const samples = parsed.flatMap((f) => f.samples);
      expect(canonicalLe(normalise(samples))).toEqual(canonicalLe(expectedSamples(series)));
    });

    it('OpenMetrics carries the newest trace id per bucket as an exemplar, read back by the strict parser', () => {
      const got = pythonParse(om, 'openmetrics')
        .flatMap((f) => f.samples)
        .filter((s) => s.exemplar)
        .map((s) => ({
          name: s.name,
          le: String(Number(s.labels.le === '+Inf' ? Infinity : s.labels.le)),
          series: JSON.stringify(
            Object.entries(s.labels)
              .filter(([k]) => k !== 'le')
              .sort(),
          ),
          exemplar: [s.exemplar!.labels, s.exemplar!.value],
        }));
      // From the state, not the text: every histogram bucket that has an exemplar, and no other.
      const want = series.flatMap((s) => {
        if (s.kind !== 'histogram' || !s.exemplars) return [];
        const def = DEFS[s.name]!;
        const labels = def.labels.map((l, i) => [l, s.labels[i]!] as [string, string]).sort();
        return s.exemplars.flatMap((e, i) =>
          e
            ? [
                {
                  name: `${s.name}_bucket`,
                  le: String(def.buckets![i] ?? Infinity),
                  series: JSON.stringify(labels),
                  exemplar: [{ trace_id: e.traceId }, e.value],
                },
              ]
            : [],
        );
      });
      const key = (x: { name: string; series: string; le: string }) => x.name + x.series + x.le;
      expect(got.length).toBeGreaterThan(5);
      expect([...got].sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual(
        [...want].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
      );
      // Text 0.0.4 has no exemplars, and the counts are the same with or without them.
      expect(prom).not.toContain(' # {');
      const strip = (t: string) => t.replace(/ # \{[^}]*\} \S+ \S+$/gm, '');
      expect(strip(om)).toBe(renderExposition(stripExemplars(series), GAUGES, 'openmetrics'));
    });

    it('the strict OpenMetrics parser rejects what breaks the spec (the check can fail)', () => {
      expect(() => pythonParse(om.replace('# EOF\n', ''), 'openmetrics')).toThrow(/rejected/);
      expect(() =>
        pythonParse(
          om.replace('# TYPE requests counter', '# TYPE requests_total counter'),
          'openmetrics',
        ),
      ).toThrow(/rejected/);
    });

    it("OpenMetrics parses with Prometheus' own OpenMetrics parser", () => {
      const r = promtoolParseOpenMetrics(om);
      expect(r.output).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      expect(promtoolParseOpenMetrics(om.replace('# EOF\n', '')).code).not.toBe(0);
    });
  },
);
