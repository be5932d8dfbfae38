/**
 * Renders metric state as Prometheus text exposition 0.0.4 or OpenMetrics 1.0 text.
 *
 * Rules followed (Prometheus "Exposition formats" and the OpenMetrics 1.0 spec):
 * - every family gets HELP and TYPE, in catalogue order; series sorted by label values;
 * - label values are made well-formed (U+FFFD for a lone surrogate), then escape `\`, `"` and
 *   newline; HELP escapes `\` and newline (plus `"` in OpenMetrics);
 * - histogram buckets are cumulative, `le="+Inf"` equals `_count`, followed by `_sum`, `_count`;
 * - OpenMetrics names a counter family without `_total` (samples keep it) and ends with `# EOF`.
 */
import type { SeriesState } from './aggregate';
import { METRIC_DEFINITIONS, type MetricDefinition, type MetricName } from './definitions';
import type { Exemplar } from './recorder';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

export interface GaugeValue {
  name: MetricName;
  value: number;
}

const DEFS: Record<string, MetricDefinition> = METRIC_DEFINITIONS;

/**
 * A label value as both formats spell it. The value is made well-formed first (a lone surrogate
 * becomes U+FFFD): the body is UTF-8, and a lone surrogate would encode as bytes that are not
 * UTF-8, which makes Prometheus reject the whole scrape. Label values come from closed
 * vocabularies, so this is a last guard, not the rule.
 */
export function escapeLabelValue(value: string): string {
  const v = value.isWellFormed() ? value : value.toWellFormed();
  return /[\\"\n]/.test(v)
    ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : v;
}

function escapeHelp(v: string, format: ExpositionFormat): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

/** A sample value as both formats spell it (Go's ParseFloat accepts all of these). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/**
 * Chooses the format from an Accept header: OpenMetrics when the client prefers
 * `application/openmetrics-text` (by q-value, ties going to OpenMetrics); otherwise 0.0.4.
 */
export function negotiateFormat(accept: string | undefined | null): ExpositionFormat {
  if (!accept) return 'prometheus';
  let om = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim());
      if (k === 'q') q = Number(v);
      if (k === 'version') version = v;
    }
    if (!Number.isFinite(q)) continue;
    // Only 1.0.0 (or an unversioned request) gets OpenMetrics; 0.0.1 is a draft we do not speak.
    if (type === 'application/openmetrics-text' && (!version || version === '1.0.0'))
      om = Math.max(om, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus';
}

function compareLabels(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** `{a="1",b="2"` without the closing brace, so histograms can append `le`. Null if no labels. */
function labelPrefix(names: readonly string[], values: readonly string[]): string | null {
  if (names.length === 0) return null;
  let s = '{';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) s += ',';
    s += names[i] + '="' + escapeLabelValue(values[i] ?? '') + '"';
  }
  return s;
}

/** An OpenMetrics exemplar suffix, or nothing. The trace id is hex (checked at ingest). */
function exemplar(e: Exemplar | null | undefined): string {
  if (!e) return '';
  return ` # {trace_id="${e.traceId}"} ${formatValue(e.value)} ${(e.ts / 1000).toFixed(3)}`;
}

/** Renders every family of the catalogue from merged series plus computed gauges. */
export function renderExposition(
  series: readonly SeriesState[],
  gauges: readonly GaugeValue[],
  format: ExpositionFormat,
): string {
  const byName = new Map<string, SeriesState[]>();
  for (const s of series) {
    let list = byName.get(s.name);
    if (!list) byName.set(s.name, (list = []));
    list.push(s);
  }
  const gaugeByName = new Map(gauges.map((g) => [g.name as string, g.value]));
  const om = format === 'openmetrics';
  // One growing string: V8 builds it as a rope, cheaper than pushing ~10k parts and joining.
  let out = '';

  for (const [name, def] of Object.entries(DEFS)) {
    const family = om && def.type === 'counter' ? name.replace(/_total$/, '') : name;
    out += `# HELP ${family} ${escapeHelp(def.help, format)}\n# TYPE ${family} ${def.type}\n`;

    if (def.type === 'gauge') {
      const v = gaugeByName.get(name);
      if (v !== undefined) out += `${name} ${formatValue(v)}\n`;
      continue;
    }
    const list = byName.get(name);
    if (!list) continue;
    if (list.length > 1) list.sort((a, b) => compareLabels(a.labels, b.labels));

    if (def.type === 'counter') {
      for (const s of list) {
        if (s.kind !== 'counter') continue;
        const p = labelPrefix(def.labels, s.labels);
        out += (p === null ? name : name + p + '}') + ' ' + formatValue(s.value) + '\n';
      }
      continue;
    }

    const bounds = (def.buckets ?? []).map(formatValue);
    const bucketName = name + '_bucket';
    for (const s of list) {
      if (s.kind !== 'histogram') continue;
      const p = labelPrefix(def.labels, s.labels);
      const open = bucketName + (p === null ? '{le="' : p + ',le="');
      const tail = p === null ? '' : p + '}';
      // Exemplars exist in OpenMetrics only: `… # {trace_id="…"} <value> <timestamp>`.
      const ex = om ? s.exemplars : undefined;
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += s.buckets[i] ?? 0;
        out += open + bounds[i] + '"} ' + cumulative + exemplar(ex?.[i]) + '\n';
      }
      cumulative += s.buckets[bounds.length] ?? 0;
      // +Inf and _count are the same number by construction (the bucket total).
      out += open + '+Inf"} ' + cumulative + exemplar(ex?.[bounds.length]) + '\n';
      out += name + '_sum' + tail + ' ' + formatValue(s.sum) + '\n';
      out += name + '_count' + tail + ' ' + cumulative + '\n';
    }
  }
  if (om) out += '# EOF\n';
  return out;
}
