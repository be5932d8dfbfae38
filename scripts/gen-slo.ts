/**
 * vakt's SLOs as code: reads grafana/slo.yml (targets, thresholds, alert windows — the one place
 * those numbers live), validates it, and generates grafana/slo-rules.yml (recording rules for the
 * SLIs over every window, and multi-window, multi-burn-rate alerts). The dashboard's SLO row
 * (scripts/gen-dashboard.ts) queries the recorded series named here.
 *
 * Recorded series (per scrape job):
 *   vakt_slo:error_ratio{slo, window}  share of bad events over the window (0…1)
 *   vakt_slo:burn_rate{slo, window}    error_ratio / (1 − objective): 1 spends the budget exactly
 *                                      over the period, 14.4 spends 2 % of it per hour
 *   vakt_slo:objective{slo}            the target, for "SLI vs target" panels
 *
 * Regenerate with `npm run grafana:dashboard`; test/node/grafana-assets.test.ts fails while the
 * committed file differs from this generator's output.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { METRIC_DEFINITIONS } from '../src/metrics/definitions';

const ROOT = path.resolve(import.meta.dirname, '..');
export const SLO_FILE = path.join(ROOT, 'grafana/slo.yml');

export const ERROR_RATIO = 'vakt_slo:error_ratio';
export const BURN_RATE = 'vakt_slo:burn_rate';
export const OBJECTIVE = 'vakt_slo:objective';

const duration = z.string().regex(/^\d+[mhd]$/, 'expected a duration such as 5m, 1h or 30d');
const objective = z.number().gt(0).lt(1);

const SloFileSchema = z.strictObject({
  period: duration,
  endpoint: z.string().startsWith('/'),
  slos: z.strictObject({
    availability: z.strictObject({ objective }),
    latency: z.strictObject({
      objective,
      threshold_ms: z
        .number()
        .refine(
          (ms) => (METRIC_DEFINITIONS.request_latency_ms.buckets as readonly number[]).includes(ms),
          'threshold_ms must be a bucket bound of request_latency_ms (src/metrics/definitions.ts)',
        ),
    }),
  }),
  alerts: z
    .array(
      z.strictObject({
        long: duration,
        short: duration,
        burn_rate: z.number().positive(),
        severity: z.enum(['critical', 'warning']),
      }),
    )
    .min(1),
});

export type SloSpec = z.infer<typeof SloFileSchema>;
export type SloName = keyof SloSpec['slos'];
export const SLO_NAMES: readonly SloName[] = ['availability', 'latency'];

/** grafana/slo.yml, validated (throws naming the offending field). */
export function loadSloSpec(file = SLO_FILE): SloSpec {
  const parsed = SloFileSchema.safeParse(YAML.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${path.relative(ROOT, file)}: ${why}`);
  }
  for (const a of parsed.data.alerts) {
    if (seconds(a.short) >= seconds(a.long))
      throw new Error(
        `grafana/slo.yml: alert ${a.long}/${a.short}: short must be shorter than long`,
      );
  }
  return parsed.data;
}

export function seconds(d: string): number {
  const n = Number(d.slice(0, -1));
  return n * { m: 60, h: 3600, d: 86400 }[d.slice(-1) as 'm' | 'h' | 'd'];
}

/** Every window a rule or panel needs: the alert windows and the period, shortest first. */
export function windows(spec: SloSpec): string[] {
  const all = new Set<string>([spec.period]);
  for (const a of spec.alerts) all.add(a.long).add(a.short);
  return [...all].sort((a, b) => seconds(a) - seconds(b));
}

/** 1 − objective, written so PromQL and JavaScript compute the same double. */
export const budget = (spec: SloSpec, slo: SloName) => `(1 - ${spec.slos[slo].objective})`;

/** The SLI's error ratio over `window`, by scrape job (PromQL). */
export function errorRatioExpr(spec: SloSpec, slo: SloName, window: string): string {
  const ep = JSON.stringify(spec.endpoint);
  if (slo === 'availability') {
    const all = `sum by (job) (rate(requests_total{endpoint=${ep},method="POST"}[${window}]))`;
    const bad = `sum by (job) (rate(requests_total{endpoint=${ep},method="POST",status=~"5.."}[${window}]))`;
    // With no 5xx series at all the numerator is empty; `or 0 * all` makes it 0 per job instead.
    return `(${bad} or 0 * ${all}) / ${all}`;
  }
  const le = JSON.stringify(String(spec.slos.latency.threshold_ms));
  const all = `sum by (job) (rate(request_latency_ms_count{endpoint=${ep}}[${window}]))`;
  const good = `sum by (job) (rate(request_latency_ms_bucket{endpoint=${ep},le=${le}}[${window}]))`;
  // Counters extrapolated separately can make good exceed all by a hair; a ratio is never < 0.
  return `clamp_min((${all} - ${good}) / ${all}, 0)`;
}

const sel = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

const title = (slo: SloName) => slo[0]!.toUpperCase() + slo.slice(1);

/** `AvailabilityBudgetBurn1h` … — one alert per SLO and window pair. */
export const alertName = (slo: SloName, long: string) => `${title(slo)}BudgetBurn${long}`;

interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}
interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<RecordingRule | AlertingRule>;
}

export function buildSloRules(spec: SloSpec): { groups: RuleGroup[] } {
  const short: Array<RecordingRule | AlertingRule> = [];
  const long: RecordingRule[] = [];
  for (const slo of SLO_NAMES) {
    short.push({
      record: OBJECTIVE,
      expr: `vector(${spec.slos[slo].objective})`,
      labels: { slo },
    });
    for (const window of windows(spec)) {
      // The period's window only feeds the dashboard; evaluating a 30-day rate every 10 s would
      // be the most expensive rule by far, so it has its own, slower group.
      const target = window === spec.period ? long : short;
      target.push({
        record: ERROR_RATIO,
        expr: errorRatioExpr(spec, slo, window),
        labels: { slo, window },
      });
      target.push({
        record: BURN_RATE,
        expr: `${sel(ERROR_RATIO, { slo, window })} / ${budget(spec, slo)}`,
        labels: { slo, window },
      });
    }
  }
  const alerts: AlertingRule[] = [];
  for (const slo of SLO_NAMES) {
    const what =
      slo === 'availability'
        ? `${spec.slos.availability.objective * 100} % of POST ${spec.endpoint} answered without a 5xx`
        : `${spec.slos.latency.objective * 100} % of POST ${spec.endpoint} answered within ${spec.slos.latency.threshold_ms} ms`;
    for (const a of spec.alerts) {
      alerts.push({
        alert: alertName(slo, a.long),
        expr:
          `${sel(BURN_RATE, { slo, window: a.long })} > ${a.burn_rate}\n` +
          `and ignoring (window)\n` +
          `${sel(BURN_RATE, { slo, window: a.short })} > ${a.burn_rate}`,
        // `window` (the long one) comes from the left-hand side.
        labels: { severity: a.severity, short_window: a.short },
        annotations: {
          summary: `vakt ${slo} SLO: error budget burning ${a.burn_rate}× too fast`,
          description:
            `The ${slo} SLO (${what}) is spending its ${spec.period} error budget more than ` +
            `${a.burn_rate}× faster than sustainable over both the last ${a.long} and the last ` +
            `${a.short}: over ${budgetShare(a.burn_rate, a.long, spec.period)} of the budget per ` +
            `${a.long}. See the dashboard's SLO row and docs/observability.md "SLOs".`,
        },
      });
    }
  }
  return {
    groups: [
      { name: 'vakt-slo', rules: [...short, ...alerts] },
      { name: 'vakt-slo-period', interval: '1m', rules: long },
    ],
  };
}

/** Share of the period's budget a burn rate spends in `window`, e.g. "2 %". */
function budgetShare(burnRate: number, window: string, period: string): string {
  const share = (burnRate * seconds(window)) / seconds(period);
  return `${Math.round(share * 1000) / 10} %`;
}

/** The file contents of grafana/slo-rules.yml. */
export function renderSloRules(spec = loadSloSpec()): string {
  const header =
    '# GENERATED from grafana/slo.yml by scripts/gen-slo.ts — edit those, then run\n' +
    '# `npm run grafana:dashboard`. Unit tests: slo-rules.test.yml (`promtool test rules`).\n';
  return header + YAML.stringify(buildSloRules(spec), { lineWidth: 0 });
}
