/** The pure metrics logic (apply, caps, merge, render, negotiation), without workerd. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isWellFormedFlush,
  MAX_DELTAS_PER_FLUSH,
  mergeSnapshots,
  SeriesTable,
  validateDelta,
  type SeriesState,
} from '../../src/metrics/aggregate';
import {
  METRIC_DEFINITIONS,
  validateDefinitions,
  type MetricDefinition,
} from '../../src/metrics/definitions';
import { escapeLabelValue, negotiateFormat, renderExposition } from '../../src/metrics/exposition';
import { MetricsRecorder, type SeriesDelta } from '../../src/metrics/recorder';
import { toOpenApiPath } from '../../src/middleware/request-metrics';
import { ACTIONS } from '../../src/governance/policy';
import { DETECTOR_TYPES } from '../../src/pii/types';

const hit = (id: string, value = 1): SeriesDelta => ({
  kind: 'counter',
  name: 'rate_limit_hits_total',
  labels: { api_key_id: id },
  value,
});

function find(series: SeriesState[], name: string, labels: string[]) {
  return series.find((s) => s.name === name && s.labels.join('|') === labels.join('|'));
}

describe('metric definitions', () => {
  it('accepts the catalogue', () => {
    expect(() => validateDefinitions(METRIC_DEFINITIONS)).not.toThrow();
  });

  it.each<[string, Record<string, MetricDefinition>, RegExp]>([
    [
      'a counter without _total',
      { hits: { type: 'counter', help: 'h', labels: [], maxSeries: 1 } },
      /_total/,
    ],
    [
      'an invalid name',
      { 'a-b_total': { type: 'counter', help: 'h', labels: [], maxSeries: 1 } },
      /name/,
    ],
    ['empty help', { a_total: { type: 'counter', help: ' ', labels: [], maxSeries: 1 } }, /help/],
    [
      'a reserved label',
      { a_total: { type: 'counter', help: 'h', labels: ['__name'], maxSeries: 9 } },
      /invalid label/,
    ],
    [
      'le on a histogram',
      { h: { type: 'histogram', help: 'h', labels: ['le'], buckets: [1], maxSeries: 9 } },
      /reserved/,
    ],
    [
      'unsorted buckets',
      { h: { type: 'histogram', help: 'h', labels: [], buckets: [2, 1], maxSeries: 1 } },
      /increase/,
    ],
    [
      'a cap on an unknown label',
      { a_total: { type: 'counter', help: 'h', labels: ['x'], caps: { y: 3 }, maxSeries: 9 } },
      /unknown label/,
    ],
    [
      'a labelled family without a series cap',
      { a_total: { type: 'counter', help: 'h', labels: ['x'] } as unknown as MetricDefinition },
      /maxSeries/,
    ],
    [
      'a series cap with no room for the overflow series',
      { a_total: { type: 'counter', help: 'h', labels: ['x'], maxSeries: 1 } },
      /maxSeries/,
    ],
  ])('rejects %s', (_, defs, message) => {
    expect(() => validateDefinitions(defs)).toThrow(message);
  });
});

describe('validateDelta', () => {
  it('returns label values in catalogue order', () => {
    expect(
      validateDelta({
        kind: 'counter',
        name: 'requests_total',
        labels: { status: '200', endpoint: '/x', method: 'GET' },
        value: 1,
      }),
    ).toEqual(['GET', '/x', '200']);
  });

  it.each<[string, unknown]>([
    ['unknown metric', { kind: 'counter', name: 'nope_total', labels: {}, value: 1 }],
    ['wrong kind', { kind: 'histogram', name: 'logs_queued_total', labels: {}, value: 1 }],
    ['extra label', { kind: 'counter', name: 'logs_queued_total', labels: { a: 'b' }, value: 1 }],
    ['negative value', { kind: 'counter', name: 'logs_queued_total', labels: {}, value: -1 }],
    [
      'a label value with a lone surrogate',
      {
        kind: 'counter',
        name: 'rate_limit_hits_total',
        labels: { api_key_id: 'k\udc00' },
        value: 1,
      },
    ],
    [
      'a label value with NUL (the series key separator)',
      {
        kind: 'counter',
        name: 'rate_limit_hits_total',
        labels: { api_key_id: 'a\u0000b' },
        value: 1,
      },
    ],
    [
      'the folded-events family (written by the METRICS objects only)',
      {
        kind: 'counter',
        name: 'metrics_series_folded_total',
        labels: { family: 'requests_total' },
        value: 1,
      },
    ],
    ['NaN value', { kind: 'counter', name: 'logs_queued_total', labels: {}, value: NaN }],
    [
      'count not matching buckets',
      {
        kind: 'histogram',
        name: 'governance_check_latency_ms',
        labels: { stage: 'scoring' },
        buckets: new Array(13).fill(0),
        sum: 0,
        count: 1,
      },
    ],
  ])('rejects %s', (_, d) => {
    expect(validateDelta(d as SeriesDelta)).toBeNull();
  });
});

describe('isWellFormedFlush', () => {
  const flush = (id: string, n: number) => ({
    id,
    deltas: Array.from({ length: n }, () => hit('k')),
  });
  it('accepts up to MAX_DELTAS_PER_FLUSH deltas and refuses one more', () => {
    expect(MAX_DELTAS_PER_FLUSH).toBe(5000);
    expect(isWellFormedFlush(flush('a', MAX_DELTAS_PER_FLUSH))).toBe(true);
    expect(isWellFormedFlush(flush('a', MAX_DELTAS_PER_FLUSH + 1))).toBe(false);
  });
  it('refuses a missing, empty or over-long id', () => {
    expect(isWellFormedFlush(flush('', 1))).toBe(false);
    expect(isWellFormedFlush(flush('x'.repeat(129), 1))).toBe(false);
    expect(isWellFormedFlush(null)).toBe(false);
  });
});

describe('SeriesTable', () => {
  it('plans without mutating and applies on commit', () => {
    const t = new SeriesTable();
    const plan = t.plan([hit('a', 2), hit('a', 3), hit('b')], 100);
    expect(t.size).toBe(0);
    t.commit(plan.updates);
    expect(find(t.all(), 'rate_limit_hits_total', ['a'])).toMatchObject({
      value: 5,
      firstSeen: 100,
    });
    const again = t.plan([hit('a')], 200);
    expect(find(t.all(), 'rate_limit_hits_total', ['a'])).toMatchObject({ value: 5 });
    expect(again.updates[0]).toMatchObject({ value: 6, firstSeen: 100 });
  });

  it('folds label values past the cap into "other", also within one flush', () => {
    const t = new SeriesTable();
    const deltas = Array.from({ length: 1002 }, (_, i) => hit(`k${i}`));
    t.commit(t.plan(deltas, 1).updates);
    // 1000 admitted + "other", plus metrics_series_folded_total{family="rate_limit_hits_total"}.
    expect(t.size).toBe(1002);
    expect(find(t.all(), 'rate_limit_hits_total', ['other'])).toMatchObject({ value: 2 });
  });
});

const allowed = (model: string, operation: string, value = 1): SeriesDelta => ({
  kind: 'counter',
  name: 'governance_allowed_total',
  labels: { model, operation },
  value,
});
const sumOf = (series: SeriesState[], name: string) =>
  series.reduce((n, s) => n + (s.name === name && s.kind === 'counter' ? s.value : 0), 0);
/** `count` distinct (model, operation) pairs: 200 models (the label cap) × enough operations. */
const pairs = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, i) => [
    `m${(i + offset) % 200}`,
    `o${Math.floor((i + offset) / 200)}`,
  ]);

describe('series caps', () => {
  it('folds new series past a family cap into the all-"other" series and counts what it folded', () => {
    const cap = METRIC_DEFINITIONS.governance_allowed_total.maxSeries;
    const t = new SeriesTable();
    const deltas = pairs(cap + 200).map(([m, o]) => allowed(m!, o!, 2));
    t.commit(t.plan(deltas, 1).updates);
    const family = t.all().filter((s) => s.name === 'governance_allowed_total');
    expect(family).toHaveLength(cap);
    expect(t.ordinaryCount('governance_allowed_total')).toBe(cap - 1);
    // 201 series did not fit (cap − 1 ordinary + the overflow series), 2 events each.
    expect(find(t.all(), 'governance_allowed_total', ['other', 'other'])).toMatchObject({
      value: 201 * 2,
    });
    expect(
      find(t.all(), 'metrics_series_folded_total', ['governance_allowed_total']),
    ).toMatchObject({ value: 201 * 2 });
    expect(sumOf(t.all(), 'governance_allowed_total')).toBe((cap + 200) * 2);
    // An admitted series keeps counting; a new one folds, and is counted as folded.
    t.commit(t.plan([allowed('m0', 'o0', 5), allowed('m1', 'o99', 3)], 2).updates);
    expect(find(t.all(), 'governance_allowed_total', ['m0', 'o0'])).toMatchObject({ value: 7 });
    expect(find(t.all(), 'governance_allowed_total', ['m1', 'o99'])).toBeUndefined();
    expect(
      find(t.all(), 'metrics_series_folded_total', ['governance_allowed_total']),
    ).toMatchObject({ value: 201 * 2 + 3 });
  });

  it('counts label-cap folds as folded too', () => {
    const t = new SeriesTable();
    t.commit(
      t.plan(
        Array.from({ length: 1003 }, (_, i) => hit(`k${i}`, 2)),
        1,
      ).updates,
    );
    expect(find(t.all(), 'rate_limit_hits_total', ['other'])).toMatchObject({ value: 6 });
    expect(find(t.all(), 'metrics_series_folded_total', ['rate_limit_hits_total'])).toMatchObject({
      value: 6,
    });
  });

  it('caps every family, also across shards at merge, conserving every event', () => {
    const cap = METRIC_DEFINITIONS.governance_allowed_total.maxSeries;
    // Shard 0 holds pairs 0..1499 (first seen at t=1), shard 1 pairs 1000..2499 (t=2).
    const shards = [0, 1].map((s) => {
      const t = new SeriesTable();
      t.commit(
        t.plan(
          pairs(1500, s * 1000).map(([m, o]) => allowed(m!, o!)),
          1 + s,
        ).updates,
      );
      return t.all();
    });
    const merged = mergeSnapshots(shards);
    const family = merged.filter((s) => s.name === 'governance_allowed_total');
    expect(family).toHaveLength(cap);
    expect(sumOf(merged, 'governance_allowed_total')).toBe(3000);
    // The 1999 kept are the earliest: all of shard 0's 1500, then shard 1's by label order.
    expect(find(merged, 'governance_allowed_total', ['m0', 'o0'])).toMatchObject({ value: 1 });
    expect(find(merged, 'governance_allowed_total', ['m0', 'o5'])).toMatchObject({ value: 2 });
    const other = find(merged, 'governance_allowed_total', ['other', 'other'])!;
    expect(other).toMatchObject({
      value:
        3000 -
        sumOf(
          family.filter((s) => s !== other),
          'governance_allowed_total',
        ),
    });
    expect(find(merged, 'metrics_series_folded_total', ['governance_allowed_total'])).toMatchObject(
      {
        value: (other as { value: number }).value,
      },
    );
    // Every labelled family has a folded-events series from the start.
    expect(
      find(mergeSnapshots([]), 'metrics_series_folded_total', ['requests_total']),
    ).toMatchObject({ value: 0 });
  });

  it('leaves room for every detector type × action in governance_findings_total', () => {
    expect(DETECTOR_TYPES.length * ACTIONS.length + 1).toBeLessThanOrEqual(
      METRIC_DEFINITIONS.governance_findings_total.maxSeries,
    );
  });

  it.each(Object.entries(METRIC_DEFINITIONS))('%s has a hard series cap', (_name, def) => {
    expect(def.maxSeries).toBeGreaterThanOrEqual(1);
    const capped = Object.entries('caps' in def ? def.caps : {});
    // Where label caps bound the family on their own, the series cap is not tighter than them.
    if (capped.length === def.labels.length && capped.length === 1)
      expect(def.maxSeries).toBe(capped[0]![1] + 1);
  });
});

describe('well-formed label values', () => {
  it('merges series whose stored values only differ in lone surrogates, and renders valid UTF-8', () => {
    // As stored before ill-formed values were refused (validateDelta now rejects them).
    const legacy: SeriesState[] = ['gpt-4\udc00', 'gpt-4\udc01'].map((model, i) => ({
      kind: 'counter',
      name: 'governance_allowed_total',
      labels: [model, 'chat'],
      firstSeen: i,
      value: 2 + i,
    }));
    const merged = mergeSnapshots([legacy]);
    expect(find(merged, 'governance_allowed_total', ['gpt-4\ufffd', 'chat'])).toMatchObject({
      value: 5,
    });
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const text = renderExposition(merged, [], format);
      const bytes = new TextEncoder().encode(text);
      expect(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)).toBe(text);
      expect(text).toContain('governance_allowed_total{model="gpt-4\ufffd",operation="chat"} 5');
    }
    expect(escapeLabelValue('a\ud800"b')).toBe('a\ufffd\\"b');
  });
});

describe('maintenance deletes', () => {
  it('removes matching series and frees their room under the caps', () => {
    const t = new SeriesTable();
    t.commit(
      t.plan(
        Array.from({ length: 1001 }, (_, i) => hit(`k${i}`)),
        1,
      ).updates,
    );
    expect(find(t.all(), 'rate_limit_hits_total', ['other'])).toMatchObject({ value: 1 });
    const victims = t.matching({ family: 'rate_limit_hits_total', labels: { api_key_id: 'k7' } });
    expect(victims.map((s) => s.labels)).toEqual([['k7']]);
    t.remove(victims);
    expect(t.ordinaryCount('rate_limit_hits_total')).toBe(999);
    // The freed room admits one new value; the next folds again.
    t.commit(t.plan([hit('new-a', 4), hit('new-b', 1)], 2).updates);
    expect(find(t.all(), 'rate_limit_hits_total', ['new-a'])).toMatchObject({ value: 4 });
    expect(find(t.all(), 'rate_limit_hits_total', ['new-b'])).toBeUndefined();
    expect(find(t.all(), 'rate_limit_hits_total', ['other'])).toMatchObject({ value: 2 });
  });

  it('matches a stored ill-formed value by the well-formed value /metrics shows, and only its labels', () => {
    const legacy: SeriesState = {
      kind: 'counter',
      name: 'governance_allowed_total',
      labels: ['gpt-4\udc00', 'chat'],
      firstSeen: 0,
      value: 1,
    };
    const t = new SeriesTable([legacy]);
    t.commit(t.plan([allowed('gpt-4', 'chat'), hit('k')], 1).updates);
    expect(t.matching({ labels: { model: 'gpt-4\ufffd' } })).toEqual([legacy]);
    expect(t.matching({ family: 'rate_limit_hits_total', labels: { model: 'gpt-4' } })).toEqual([]);
    expect(t.matching({ family: 'governance_allowed_total' })).toHaveLength(2);
  });
});

describe('mergeSnapshots', () => {
  it('sums the same series across shards and keeps the earliest firstSeen', () => {
    const a = new SeriesTable();
    a.commit(a.plan([hit('x', 2)], 50).updates);
    const b = new SeriesTable();
    b.commit(b.plan([hit('x', 3), hit('y')], 10).updates);
    const merged = mergeSnapshots([a.all(), b.all()]);
    expect(find(merged, 'rate_limit_hits_total', ['x'])).toMatchObject({
      value: 5,
      firstSeen: 10,
    });
    // Always-present series exist from the start.
    expect(find(merged, 'logs_queued_total', [])).toMatchObject({ value: 0 });
    expect(find(merged, 'governance_check_latency_ms', ['logging'])).toMatchObject({ count: 0 });
  });

  it('applies the cap to the union of shards, keeping the values seen first', () => {
    const shards = [0, 1].map((s) => {
      const t = new SeriesTable();
      // Shard 0 sees k0..k599 at t=1; shard 1 sees k600..k1199 at t=2, plus k0 again.
      const ids = Array.from({ length: 600 }, (_, i) => `k${s * 600 + i}`);
      t.commit(t.plan([...ids.map((id) => hit(id)), hit('k0')], 1 + s).updates);
      return t.all();
    });
    const merged = mergeSnapshots(shards).filter((s) => s.name === 'rate_limit_hits_total');
    expect(merged).toHaveLength(1001);
    expect(find(merged, 'rate_limit_hits_total', ['k0'])).toMatchObject({ value: 3 });
    expect(find(merged, 'rate_limit_hits_total', ['k599'])).toBeDefined();
    // 1200 distinct: the 200 seen last fold (value 1 each).
    expect(find(merged, 'rate_limit_hits_total', ['other'])).toMatchObject({ value: 200 });
    const total = merged.reduce((n, s) => n + (s.kind === 'counter' ? s.value : 0), 0);
    expect(total).toBe(1202);
  });

  it('is exact: any split of the deltas over shards and flushes sums to the same totals', () => {
    const delta = fc.oneof(
      fc.record({
        kind: fc.constant('counter' as const),
        name: fc.constant('requests_total' as const),
        labels: fc.record({
          method: fc.constantFrom('GET', 'POST'),
          endpoint: fc.constantFrom('/a', '/b'),
          status: fc.constantFrom('200', '500'),
        }),
        value: fc.integer({ min: 1, max: 5 }),
      }),
      fc.integer({ min: 0, max: 20_000 }).map((ms): SeriesDelta => {
        const r = new MetricsRecorder();
        r.observe('request_latency_ms', { endpoint: '/a' }, ms);
        return r.drain()[0]!;
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(delta, fc.nat(3)), { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        (items, shardCount) => {
          const single = new SeriesTable();
          single.commit(
            single.plan(
              items.map(([d]) => d),
              0,
            ).updates,
          );
          const shards = Array.from({ length: shardCount }, () => new SeriesTable());
          for (const [d, s] of items) {
            const t = shards[s % shardCount]!;
            t.commit(t.plan([d], 0).updates);
          }
          const strip = (list: SeriesState[]) =>
            list
              .map(({ firstSeen: _, ...rest }) => rest)
              .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
          expect(strip(mergeSnapshots(shards.map((t) => t.all())))).toEqual(
            strip(mergeSnapshots([single.all()])),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('renderExposition', () => {
  const series = (): SeriesState[] => {
    const t = new SeriesTable();
    const r = new MetricsRecorder();
    r.inc('requests_total', { method: 'GET', endpoint: '/health', status: '200' }, 3);
    r.inc('governance_blocked_total', {
      model: 'gpt-4',
      operation: 'a"b\\c\nd',
      reason: 'contains_secret',
    });
    r.observe('governance_check_latency_ms', { stage: 'scoring' }, 0.3);
    r.observe('governance_check_latency_ms', { stage: 'scoring' }, 5000);
    t.commit(t.plan(r.drain(), 0).updates);
    return mergeSnapshots([t.all()]);
  };
  const gauges = [
    { name: 'async_logger_queue_size' as const, value: 2 },
    { name: 'async_logger_queue_maxsize' as const, value: 1000 },
  ];

  it('renders Prometheus text 0.0.4', () => {
    const text = renderExposition(series(), gauges, 'prometheus');
    expect(text).toContain(
      'governance_blocked_total{model="gpt-4",operation="a\\"b\\\\c\\nd",reason="contains_secret"} 1\n',
    );
    expect(text).toContain(
      [
        'governance_check_latency_ms_bucket{stage="scoring",le="0.25"} 0',
        'governance_check_latency_ms_bucket{stage="scoring",le="0.5"} 1',
      ].join('\n'),
    );
    expect(text).toContain(
      [
        'governance_check_latency_ms_bucket{stage="scoring",le="1000"} 1',
        'governance_check_latency_ms_bucket{stage="scoring",le="+Inf"} 2',
        'governance_check_latency_ms_sum{stage="scoring"} 5000.3',
        'governance_check_latency_ms_count{stage="scoring"} 2',
      ].join('\n'),
    );
    expect(text).toMatch(
      /^# HELP logs_queued_total .+\n# TYPE logs_queued_total counter\nlogs_queued_total 0$/m,
    );
    expect(text).toMatch(/^async_logger_queue_size 2$/m);
    expect(text).not.toContain('# EOF');
    // Families in catalogue order, every one with HELP and TYPE.
    const types = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(types).toEqual(Object.keys(METRIC_DEFINITIONS));
    expect([...text.matchAll(/^# HELP /gm)]).toHaveLength(types.length);
  });

  it('renders OpenMetrics 1.0', () => {
    const text = renderExposition(series(), gauges, 'openmetrics');
    expect(text).toMatch(/^# TYPE requests counter\n/m);
    expect(text).toMatch(/^requests_total\{method="GET",endpoint="\/health",status="200"\} 3$/m);
    expect(text).toMatch(/^# TYPE governance_check_latency_ms histogram$/m);
    expect(text).toMatch(/^# TYPE async_logger_queue_size gauge$/m);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
  });

  it('sorts series by label values, so output is stable', () => {
    const t = new SeriesTable();
    t.commit(t.plan([hit('b'), hit('a'), hit('c')], 0).updates);
    const text = renderExposition(mergeSnapshots([t.all()]), [], 'prometheus');
    const ids = [...text.matchAll(/^rate_limit_hits_total\{api_key_id="(\w)"\}/gm)].map(
      (m) => m[1],
    );
    expect(ids).toEqual(['a', 'b', 'c']);
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    // Prometheus 2.x's scrape Accept header.
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    ['application/openmetrics-text;version=0.0.1', 'prometheus'],
    ['application/openmetrics-text;q=0.2,text/plain;q=0.9', 'prometheus'],
    ['application/openmetrics-text;version=1.0.0;q=0', 'prometheus'],
  ])('%s → %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('endpoint labels', () => {
  it.each([
    ['/v1/check', '/v1/check'],
    ['/admin/keys/:id', '/admin/keys/{id}'],
    ['/a/:id{[0-9]+}/b/:name', '/a/{id}/b/{name}'],
  ])('%s → %s', (path, label) => {
    expect(toOpenApiPath(path)).toBe(label);
  });
});
