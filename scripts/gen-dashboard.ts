/**
 * The vakt Grafana dashboard as typed code (@grafana/grafana-foundation-sdk). grafana/dashboard.json
 * is generated from this module; `test/node/grafana-dashboard.test.ts` fails when the committed
 * JSON is out of date. Regenerate with `npm run grafana:dashboard`.
 *
 * Every query here is executed against a real Prometheus scraping a real vakt in
 * `test/node/prometheus-e2e.test.ts`, so the queries may use only plain PromQL: no Grafana macros
 * such as `$__rate_interval` (the windows are the original service's fixed 5m / 1h). The one
 * exception is the dashboard variables (`$endpoint`, `$model`, `$api_key_id`), always inside a
 * regex matcher; the test interpolates them as Grafana does (`interpolate` below).
 */
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type DataSourceRef,
  type Dashboard,
  type Panel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import {
  BarGaugeDisplayMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { BURN_RATE, ERROR_RATIO, loadSloSpec, OBJECTIVE, windows } from './gen-slo';

/** The import input every panel refers to; Grafana's "Import dashboard" asks for it. */
export const DS_INPUT = 'DS_PROMETHEUS';
/** Grafana schema version written into the JSON (Grafana 10.4/11 read it natively). */
export const SCHEMA_VERSION = 39;

const ds: DataSourceRef = { type: 'prometheus', uid: `\${${DS_INPUT}}` };

/** Prometheus' own scrapes of /metrics are not client traffic; request totals leave them out. */
const CLIENT = 'endpoint!="/metrics"';

/**
 * Dashboard variables: multi-select with "All" (= `.*`, so series that appear later are included),
 * each applied as a regex matcher on its label in every query whose metric carries that label.
 */
export const VARIABLES = {
  endpoint: {
    label: 'Endpoint',
    query: `label_values(requests_total{${CLIENT}}, endpoint)`,
    description: 'Route pattern (request panels).',
  },
  model: {
    label: 'Model',
    // tokens_total too: a model whose every request was refused for tokens has no decision series.
    query: 'label_values({__name__=~"governance_(allowed|blocked)_total|tokens_total"}, model)',
    description:
      'Model label (decision and token panels): a KNOWN_MODELS pattern or external-model.',
  },
  api_key_id: {
    label: 'API key id',
    query:
      'label_values({__name__=~"rate_limit_hits_total|token_quota_refusals_total"}, api_key_id)',
    description: 'API key id (rate-limit and token-quota panels).',
  },
} as const;
export type VariableName = keyof typeof VARIABLES;
/** What "All" stands for. */
export const ALL_VALUE = '.*';

const ENDPOINT = 'endpoint=~"$endpoint"';
const MODEL = 'model=~"$model"';
const API_KEY = 'api_key_id=~"$api_key_id"';

const slo = loadSloSpec();
/** SLO windows shown as burn rates (every window the alerts use). */
const BURN_WINDOWS = windows(slo)
  .filter((w) => w !== slo.period)
  .join('|');

/** The PromQL of every panel, by panel title — the single source the tests also read. */
export const QUERIES = {
  totalRequests: `sum(increase(requests_total{${CLIENT},${ENDPOINT}}[5m]))`,
  allowed: `sum(increase(governance_allowed_total{${MODEL}}[5m]))`,
  blocked: `sum(increase(governance_blocked_total{${MODEL}}[5m]))`,
  rateLimitHits: `sum(increase(rate_limit_hits_total{${API_KEY}}[5m]))`,
  latencyP95: `histogram_quantile(0.95, sum by (endpoint, le) (rate(request_latency_ms_bucket{${ENDPOINT}}[5m])))`,
  requestsByEndpoint: `sum by (endpoint) (rate(requests_total{${CLIENT},${ENDPOINT}}[5m]))`,
  checkLatencyOverTime:
    'histogram_quantile(0.95, sum by (stage, le) (rate(governance_check_latency_ms_bucket[5m])))',
  queueDepth: 'async_logger_queue_size',
  queueMax: 'async_logger_queue_maxsize',
  logsWritten: 'sum(rate(logs_written_total[5m])) * 60',
  logsQueued: 'sum(rate(logs_queued_total[5m])) * 60',
  logsDropped: 'sum(rate(logs_dropped_total[5m])) * 60',
  checkLatencyP95:
    'histogram_quantile(0.95, sum by (stage, le) (rate(governance_check_latency_ms_bucket[5m])))',
  blockedByReason: `sum by (reason) (increase(governance_blocked_total{${MODEL}}[1h]))`,
  findingsByType: 'sum by (type, action) (increase(governance_findings_total[1h]))',
  monitored: `sum(increase(governance_monitored_total{${MODEL}}[5m]))`,
  monitoredByReason: `sum by (reason) (increase(governance_monitored_total{${MODEL}}[1h]))`,
  // Tokens row (docs/tokens.md): tokens counted (input) and reported (output), and refusals.
  tokensPerMinute: `sum by (model, direction) (rate(tokens_total{${MODEL}}[5m])) * 60`,
  tokenQuotaRefusals: `sum by (api_key_id, reason) (rate(token_quota_refusals_total{${API_KEY}}[5m])) * 60`,
  errorRate5xx:
    `100 * (sum(rate(requests_total{status=~"5..",${CLIENT},${ENDPOINT}}[5m])) or vector(0))` +
    ` / sum(rate(requests_total{${CLIENT},${ENDPOINT}}[5m]))`,
  // SLO row: recorded series from grafana/slo-rules.yml (scripts/gen-slo.ts).
  budgetRemaining: `1 - ${BURN_RATE}{window="${slo.period}"}`,
  burnRate: `${BURN_RATE}{window=~"${BURN_WINDOWS}"}`,
  sli1h: `1 - ${ERROR_RATIO}{window="1h"}`,
  sliPeriod: `1 - ${ERROR_RATIO}{window="${slo.period}"}`,
  objective: OBJECTIVE,
  checkLatencyP99: `histogram_quantile(0.99, sum by (le) (rate(request_latency_ms_bucket{endpoint=${JSON.stringify(slo.endpoint)}}[5m])))`,
} as const;

/**
 * A query as Grafana sends it: each `$variable` replaced by the selected values as a regex
 * alternation (`(a|b)`, regex-escaped), or by ALL_VALUE for "All".
 */
export function interpolate(
  expr: string,
  selected: Partial<Record<VariableName, readonly string[] | 'All'>> = {},
): string {
  return expr.replace(/\$(endpoint|model|api_key_id)\b/g, (_m, name: VariableName) => {
    const v = selected[name] ?? 'All';
    if (v === 'All') return ALL_VALUE;
    // Grafana's prometheusRegularEscape: backslashes first, then the regex metacharacters.
    const escaped = v.map((x) =>
      x.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&'),
    );
    return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  });
}

const lastValue = () =>
  new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false);

function query(
  refId: string,
  expr: string,
  legend: string,
  instant = false,
  exemplars = false,
): DataqueryBuilder {
  const q = new DataqueryBuilder().refId(refId).expr(expr).legendFormat(legend);
  if (exemplars) q.exemplar(true);
  return instant ? q.instant().format(PromQueryFormat.TimeSeries) : q.range();
}

function variable(name: VariableName): QueryVariableBuilder {
  const v = VARIABLES[name];
  return new QueryVariableBuilder(name)
    .label(v.label)
    .description(v.description)
    .datasource(ds)
    .query(v.query)
    .multi(true)
    .includeAll(true)
    .allValue(ALL_VALUE)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

function thresholds(
  steps: Array<[number | null, string]>,
  mode = ThresholdsMode.Absolute,
): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(mode)
    .steps(steps.map(([value, color]) => ({ value, color })));
}

function legend(placement: LegendPlacement, mode: LegendDisplayMode, calcs: string[] = []) {
  return new VizLegendOptionsBuilder()
    .displayMode(mode)
    .placement(placement)
    .showLegend(true)
    .calcs(calcs);
}

/** A Key Metrics stat: one number over the last 5 minutes. */
function countStat(title: string, description: string, expr: string, color: string) {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(ds)
    .withTarget(query('A', expr, title, true))
    .unit('short')
    .decimals(0)
    .min(0)
    .noValue('0')
    .thresholds(thresholds([[null, color]]))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.Value)
    .reduceOptions(lastValue())
    .span(6)
    .height(4);
}

export function buildDashboardModel(): Dashboard {
  const builder = new DashboardBuilder('vakt — AI governance gateway')
    .description(
      'Requests, governance decisions, rate limiting, audit logging and errors of vakt (Prometheus metrics from GET /metrics).',
    )
    .tags(['vakt', 'ai-governance', 'cloudflare-workers'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(
      // Lets the file-provisioned copy resolve `${DS_PROMETHEUS}` too (import replaces it).
      new DatasourceVariableBuilder(DS_INPUT).label('Data source').type('prometheus'),
    )
    .withVariable(variable('endpoint'))
    .withVariable(variable('model'))
    .withVariable(variable('api_key_id'))

    .withRow(new RowBuilder('Key Metrics'))
    .withPanel(
      countStat(
        'Total Requests (5m)',
        'HTTP requests served in the last 5 minutes (all routes, Prometheus scrapes excluded).',
        QUERIES.totalRequests,
        'blue',
      ),
    )
    .withPanel(
      countStat(
        'Allowed Decisions (5m)',
        'POST /v1/check decisions that allowed the call.',
        QUERIES.allowed,
        'green',
      ),
    )
    .withPanel(
      countStat(
        'Blocked Decisions (5m)',
        'Blocking reasons recorded (a decision blocked for two reasons counts twice, as in the original service).',
        QUERIES.blocked,
        'orange',
      ),
    )
    .withPanel(
      countStat(
        'Rate Limit Hits (5m)',
        'Requests refused with 429 by the per-key rate limiter. Red from 3000 in 5m (RateLimitSpike: > 10/s).',
        QUERIES.rateLimitHits,
        'green',
      ).thresholds(
        thresholds([
          [null, 'green'],
          [1, 'orange'],
          [3000, 'red'],
        ]),
      ),
    )

    .withRow(new RowBuilder('Performance'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Request Latency (P95, by endpoint)')
        .description(
          '95th percentile of request_latency_ms per route pattern over 5 minutes. Exemplars: a recent request per latency bucket, with its trace id.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.latencyP95, '{{endpoint}}', false, true))
        .unit('ms')
        .min(0)
        .fillOpacity(10)
        .showPoints(VisibilityMode.Never)
        .thresholds(
          thresholds([
            [null, 'green'],
            [250, 'orange'],
            [1000, 'red'],
          ]),
        )
        .legend(
          legend(LegendPlacement.Bottom, LegendDisplayMode.Table, ['mean', 'max', 'lastNotNull']),
        )
        .span(8)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Requests by Endpoint')
        .description('Request rate per route pattern, stacked (Prometheus scrapes excluded).')
        .datasource(ds)
        .withTarget(query('A', QUERIES.requestsByEndpoint, '{{endpoint}}'))
        .unit('reqps')
        .min(0)
        .fillOpacity(35)
        .showPoints(VisibilityMode.Never)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'))
        .thresholds(thresholds([[null, 'green']]))
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.List))
        .span(8)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Governance Check Latency over Time (P95, by stage)')
        .description(
          '95th percentile of governance_check_latency_ms per stage over 5 minutes. Exemplars: a recent decision per latency bucket, with its trace id.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.checkLatencyOverTime, '{{stage}}', false, true))
        .unit('ms')
        .min(0)
        .fillOpacity(10)
        .showPoints(VisibilityMode.Never)
        .thresholds(thresholds([[null, 'green']]))
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.List))
        .span(8)
        .height(8),
    )

    .withRow(new RowBuilder('Logging'))
    .withPanel(
      new gauge.PanelBuilder()
        .title('Async Logger Queue Depth')
        .description(
          'Audit events queued but not yet written or dropped. The maximum is async_logger_queue_maxsize (AUDIT_QUEUE_MAXSIZE); QueueBackup fires above 800 for 2 minutes.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.queueDepth, 'queue depth', true))
        .withTarget(query('B', QUERIES.queueMax, 'max', true))
        // The gauge's max comes from the second query, so it follows AUDIT_QUEUE_MAXSIZE.
        .withTransformation({
          id: 'configFromData',
          options: {
            configRefId: 'B',
            mappings: [{ fieldName: 'max', handlerKey: 'max', reducerId: 'lastNotNull' }],
          },
        })
        .unit('short')
        .min(0)
        .decimals(0)
        .thresholds(
          thresholds(
            [
              [null, 'green'],
              [60, 'orange'],
              [80, 'red'],
            ],
            ThresholdsMode.Percentage,
          ),
        )
        .showThresholdMarkers(true)
        .reduceOptions(lastValue())
        .span(8)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Logs Written per Minute')
        .description(
          'Audit events per minute: sent to the queue, written to D1, and dropped (dead-lettered or unsendable).',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.logsWritten, 'written'))
        .withTarget(query('B', QUERIES.logsQueued, 'queued'))
        .withTarget(query('C', QUERIES.logsDropped, 'dropped'))
        .unit('wpm')
        .min(0)
        .fillOpacity(10)
        .showPoints(VisibilityMode.Never)
        .thresholds(thresholds([[null, 'green']]))
        .overrideByName('dropped', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }])
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.List))
        .span(16)
        .height(8),
    )

    .withRow(new RowBuilder('Details'))
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Governance Check Latency by Stage (P95)')
        .description(
          '95th percentile of governance_check_latency_ms per stage (rate_limit, validation, scoring, logging) over 5 minutes.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.checkLatencyP95, '{{stage}}', true))
        .unit('ms')
        .min(0)
        .decimals(2)
        .thresholds(
          thresholds([
            [null, 'green'],
            [50, 'orange'],
            [250, 'red'],
          ]),
        )
        .orientation(VizOrientation.Horizontal)
        .displayMode(BarGaugeDisplayMode.Gradient)
        .showUnfilled(true)
        .reduceOptions(lastValue())
        .span(8)
        .height(8),
    )
    .withPanel(
      new piechart.PanelBuilder()
        .title('Blocked Decisions by Reason (1h)')
        .description('Blocking reasons over the last hour.')
        .datasource(ds)
        .withTarget(query('A', QUERIES.blockedByReason, '{{reason}}', true))
        .unit('short')
        .decimals(0)
        .thresholds(thresholds([[null, 'green']]))
        .pieType(piechart.PieChartType.Pie)
        .displayLabels([piechart.PieChartLabels.Name, piechart.PieChartLabels.Percent])
        .reduceOptions(lastValue())
        .legend(
          new piechart.PieChartLegendOptionsBuilder()
            .displayMode(LegendDisplayMode.Table)
            .placement(LegendPlacement.Right)
            .showLegend(true)
            .values([piechart.PieChartLegendValues.Value, piechart.PieChartLegendValues.Percent]),
        )
        .span(8)
        .height(8),
    )
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Findings by Type (1h)')
        .description(
          'Detector findings in /v1/check input over the last hour, by type and the action the policy applied (block, redact, allow). One per occurrence; never the value (governance_findings_total).',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.findingsByType, '{{type}} · {{action}}', true))
        .unit('short')
        .min(0)
        .decimals(0)
        .thresholds(thresholds([[null, 'blue']]))
        .orientation(VizOrientation.Horizontal)
        .displayMode(BarGaugeDisplayMode.Basic)
        .showUnfilled(true)
        .reduceOptions(lastValue())
        .span(8)
        .height(8),
    )

    .withRow(new RowBuilder('Health'))
    .withPanel(
      new stat.PanelBuilder()
        .title('Error Rate (5xx)')
        .description(
          'Share of requests answered with a 5xx status over 5 minutes. HighErrorRate fires when 5xx responses exceed 0.05/s for 5 minutes.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.errorRate5xx, '5xx', true))
        .unit('percent')
        .min(0)
        .decimals(2)
        .noValue('no traffic')
        .thresholds(
          thresholds([
            [null, 'green'],
            [1, 'orange'],
            [5, 'red'],
          ]),
        )
        .colorMode(BigValueColorMode.Background)
        .graphMode(BigValueGraphMode.Area)
        .textMode(BigValueTextMode.Value)
        .reduceOptions(lastValue())
        .span(8)
        .height(5),
    )

    // Addition: policies in monitor mode (docs/governance-api.md) let calls through that
    // enforce mode would block; these panels show what they would have blocked.
    .withRow(new RowBuilder('Monitor Mode'))
    .withPanel(
      countStat(
        'Monitored Would-Be Blocks (5m)',
        'Blocking reasons that monitor-mode policies let through in the last 5 minutes (a decision with two reasons counts twice). Switching those keys to enforce would block these calls.',
        QUERIES.monitored,
        'purple',
      ).span(8),
    )
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Monitored Would-Be Blocks by Reason (1h)')
        .description(
          'governance_monitored_total by reason over the last hour: what enforce mode would have blocked for keys whose policy is in monitor mode.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.monitoredByReason, '{{reason}}', true))
        .unit('short')
        .min(0)
        .decimals(0)
        .thresholds(thresholds([[null, 'purple']]))
        .orientation(VizOrientation.Horizontal)
        .displayMode(BarGaugeDisplayMode.Gradient)
        .showUnfilled(true)
        .reduceOptions(lastValue())
        .span(16)
        .height(5),
    )

    // Addition (issue 16): token usage by model and the token quota's refusals by key.
    .withRow(new RowBuilder('Tokens'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Tokens per Minute by Model')
        .description(
          'tokens_total per minute over 5 minutes, by model and direction: input = tokens counted by /v1/check for requests the request quota admitted (a request then refused for tokens included), output = tokens reported through POST /v1/usage (docs/tokens.md).',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.tokensPerMinute, '{{model}} · {{direction}}'))
        .unit('short')
        .min(0)
        .fillOpacity(35)
        .showPoints(VisibilityMode.Never)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'))
        .thresholds(thresholds([[null, 'green']]))
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.Table, ['mean', 'lastNotNull']))
        .span(12)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Token Quota Refusals')
        .description(
          'Requests refused by the token quota per minute over 5 minutes, by API key id and reason: exceeded (429, retry later) or too_large (413, the request alone exceeds the whole quota). TokenQuotaExhausted fires when a key is refused for tokens in every 5-minute window for 15 minutes.',
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.tokenQuotaRefusals, '{{api_key_id}} · {{reason}}'))
        .unit('reqpm')
        .min(0)
        .fillOpacity(10)
        .showPoints(VisibilityMode.Never)
        .thresholds(thresholds([[null, 'orange']]))
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.Table, ['max', 'lastNotNull']))
        .span(12)
        .height(8),
    );

  sloRow(builder);
  return layout(builder.build());
}

/** Row "SLO": the objectives of grafana/slo.yml, from the recorded series of slo-rules.yml. */
function sloRow(builder: DashboardBuilder): void {
  const { availability, latency } = slo.slos;
  builder
    .withRow(new RowBuilder('SLO'))
    .withPanel(
      new stat.PanelBuilder()
        .title(`Error Budget Remaining (${slo.period})`)
        .description(
          `Share of the ${slo.period} error budget not yet spent: 1 − burn rate over ${slo.period}. Availability: ${availability.objective * 100} % of POST ${slo.endpoint} without a 5xx; latency: ${latency.objective * 100} % within ${latency.threshold_ms} ms. Below 0 the SLO is missed for the period.`,
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.budgetRemaining, '{{slo}}', true))
        .unit('percentunit')
        .decimals(1)
        .noValue('no traffic')
        .thresholds(
          thresholds([
            [null, 'red'],
            [0, 'orange'],
            [0.25, 'green'],
          ]),
        )
        .colorMode(BigValueColorMode.Background)
        .graphMode(BigValueGraphMode.None)
        .textMode(BigValueTextMode.ValueAndName)
        .reduceOptions(lastValue())
        .span(6)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Burn Rate by Window')
        .description(
          `Error ratio ÷ error budget per window: 1 spends the budget exactly over ${slo.period}. Alerts fire when a long window and its short window both exceed ${slo.alerts.map((a) => `${a.burn_rate}× (${a.long}/${a.short})`).join(', ')}.`,
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.burnRate, '{{slo}} {{window}}'))
        .unit('x')
        .min(0)
        .fillOpacity(0)
        .showPoints(VisibilityMode.Never)
        .thresholds(
          thresholds(
            [...slo.alerts]
              .sort((a, b) => a.burn_rate - b.burn_rate)
              .map((a, i): [number | null, string] => [
                i === 0 ? null : a.burn_rate,
                a.severity === 'critical' ? 'red' : i === 0 ? 'green' : 'orange',
              ]),
          ),
        )
        .thresholdsStyle(
          new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Line),
        )
        .legend(legend(LegendPlacement.Right, LegendDisplayMode.Table, ['lastNotNull', 'max']))
        .span(10)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('SLI vs Target')
        .description(
          `Good share of POST ${slo.endpoint} over 1 hour and over ${slo.period}, against each SLO's objective.`,
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.sli1h, '{{slo}} SLI (1h)'))
        .withTarget(query('B', QUERIES.sliPeriod, `{{slo}} SLI (${slo.period})`))
        .withTarget(query('C', QUERIES.objective, '{{slo}} target'))
        .unit('percentunit')
        .decimals(3)
        .fillOpacity(0)
        .showPoints(VisibilityMode.Never)
        .thresholds(thresholds([[null, 'green']]))
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.List))
        .span(8)
        .height(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title(`Check Latency vs Threshold (P99, ${slo.endpoint})`)
        .description(
          `99th percentile of request_latency_ms for ${slo.endpoint} over 5 minutes; the latency SLO asks ${latency.objective * 100} % within ${latency.threshold_ms} ms (red line). Exemplars link a slow bucket to a request's trace id.`,
        )
        .datasource(ds)
        .withTarget(query('A', QUERIES.checkLatencyP99, 'p99', false, true))
        .unit('ms')
        .min(0)
        .fillOpacity(10)
        .showPoints(VisibilityMode.Never)
        .thresholds(
          thresholds([
            [null, 'green'],
            [latency.threshold_ms, 'red'],
          ]),
        )
        .thresholdsStyle(
          new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Line),
        )
        .legend(legend(LegendPlacement.Bottom, LegendDisplayMode.List))
        .span(24)
        .height(8),
    );
}

/**
 * Assigns ids and grid positions: each row header is one grid unit high and its panels sit side
 * by side below it, left to right, in the widths and heights set above, wrapping to a new line
 * when the 24 columns are full.
 */
function layout(dashboard: Dashboard): Dashboard {
  let y = 0;
  let x = 0;
  let rowHeight = 0;
  let id = 1;
  const panels: Panel[] = [];
  for (const p of (dashboard.panels ?? []) as Panel[]) {
    if (p.type === 'row') {
      y += rowHeight;
      panels.push({ ...p, id: id++, gridPos: { x: 0, y, w: 24, h: 1 } });
      y += 1;
      x = 0;
      rowHeight = 0;
      continue;
    }
    const w = p.gridPos?.w ?? 12;
    const h = p.gridPos?.h ?? 8;
    if (w > 24) throw new Error(`panel "${p.title}" is wider than the 24-column grid`);
    if (x + w > 24) {
      // The row continues on a new line of the grid.
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    panels.push({ ...p, id: id++, gridPos: { x, y, w, h } });
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  return { ...dashboard, panels, annotations: { list: [] } };
}

/** The importable JSON document: `__inputs` / `__requires` as Grafana's "Export for sharing" writes them. */
export function buildDashboardJson(): Record<string, unknown> {
  const model = buildDashboardModel();
  const panelTypes = [...new Set((model.panels ?? []).map((p) => p.type))].sort();
  return {
    __inputs: [
      {
        name: DS_INPUT,
        label: 'Prometheus',
        description: 'The Prometheus data source that scrapes vakt’s /metrics.',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...panelTypes
        .filter((t) => t !== 'row')
        .map((t) => ({ type: 'panel', id: t, name: t, version: '' })),
    ],
    ...model,
    id: null,
    uid: null,
    version: 1,
    schemaVersion: SCHEMA_VERSION,
  };
}

/** The file contents of grafana/dashboard.json. */
export function renderDashboard(): string {
  return JSON.stringify(buildDashboardJson(), null, 2) + '\n';
}
