/**
 * The metric catalogue: names, types, help, labels and buckets, declared once. These names are a
 * contract with the original service's dashboard and alert rules — do not rename.
 */

export const REQUEST_LATENCY_BUCKETS_MS = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];
export const CHECK_LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

export const GOVERNANCE_STAGES = ['rate_limit', 'validation', 'scoring', 'logging'] as const;
export type GovernanceStage = (typeof GOVERNANCE_STAGES)[number];

export const METRIC_DEFINITIONS = {
  requests_total: {
    type: 'counter',
    help: 'HTTP requests handled, by method, route pattern and status code.',
    labels: ['method', 'endpoint', 'status'],
    caps: { endpoint: 100, status: 60 },
    maxSeries: 1000,
  },
  request_latency_ms: {
    type: 'histogram',
    help: 'HTTP request latency in milliseconds, by route pattern.',
    labels: ['endpoint'],
    buckets: REQUEST_LATENCY_BUCKETS_MS,
    caps: { endpoint: 100 },
    maxSeries: 101,
  },
  governance_allowed_total: {
    type: 'counter',
    help: 'Governance decisions that allowed the call, by model and operation.',
    labels: ['model', 'operation'],
    caps: { model: 200, operation: 100 },
    maxSeries: 2000,
  },
  governance_blocked_total: {
    type: 'counter',
    help: 'Governance decisions that blocked the call, by model, operation and reason.',
    labels: ['model', 'operation', 'reason'],
    caps: { model: 200, operation: 100 },
    maxSeries: 4000,
  },
  // Addition (docs/governance-api.md "Monitor mode"): what monitor mode let through.
  governance_monitored_total: {
    type: 'counter',
    help: 'Monitor-mode decisions that enforce mode would have blocked, by model, operation and would-be reason (the call was allowed).',
    labels: ['model', 'operation', 'reason'],
    caps: { model: 200, operation: 100 },
    maxSeries: 4000,
  },
  // Addition (docs/tokens.md): tokens by model and direction — `input` counted by /v1/check for
  // admitted decisions, `output` reported through POST /v1/usage.
  tokens_total: {
    type: 'counter',
    help: 'Tokens by model and direction: input counted on admitted /v1/check decisions, output reported through /v1/usage.',
    labels: ['model', 'direction'],
    caps: { model: 200 },
    maxSeries: 402,
  },
  governance_check_latency_ms: {
    type: 'histogram',
    help: 'Time spent in each governance stage in milliseconds.',
    labels: ['stage'],
    buckets: CHECK_LATENCY_BUCKETS_MS,
    maxSeries: 16,
  },
  rate_limit_hits_total: {
    type: 'counter',
    help: 'Requests refused by the rate limiter, by API key id.',
    labels: ['api_key_id'],
    caps: { api_key_id: 1000 },
    maxSeries: 1001,
  },
  token_quota_refusals_total: {
    type: 'counter',
    help: 'Requests refused by the token quota, by API key id and reason (exceeded: retry later; too_large: the request alone exceeds the whole quota).',
    labels: ['api_key_id', 'reason'],
    caps: { api_key_id: 1000 },
    maxSeries: 2002,
  },
  logs_queued_total: {
    type: 'counter',
    help: 'Audit events sent to the audit queue.',
    labels: [],
    maxSeries: 1,
  },
  // Addition to the original catalogue (docs/rate-limit.md): the rate limiter's failure policy.
  rate_limit_failures_total: {
    type: 'counter',
    help: 'Requests decided by RATE_LIMIT_FAILURE_MODE because the rate limiter failed, by mode.',
    labels: ['mode'],
    maxSeries: 4,
  },
  // Addition (docs/audit.md): queue messages the audit producer sent; logs_queued_total ÷ this is
  // the packing ratio (events per message).
  logs_queue_messages_total: {
    type: 'counter',
    help: 'Audit queue messages sent by the producer (each packs many audit events).',
    labels: [],
    maxSeries: 1,
  },
  // Addition (issue 17): what the detectors found, by type and the action the policy took.
  // Both labels are closed vocabularies of vakt's own (DETECTOR_TYPES × block|redact|allow):
  // never a value, never a caller string.
  governance_findings_total: {
    type: 'counter',
    help: 'Detector findings in POST /v1/check input (one per occurrence), by detector type and the action the policy applied. Never the value.',
    labels: ['type', 'action'],
    // Room for every detector type × action (test/node/metrics-logic.test.ts checks it).
    maxSeries: 256,
  },
  // Addition (docs/rate-limit.md): calls from isolates to RATE_LIMITER objects, so the share of
  // decisions that needed a round trip (leases avoid most) is visible.
  rate_limit_object_calls_total: {
    type: 'counter',
    help: 'Calls from the gateway to RATE_LIMITER objects, by operation (acquire, release, sync, tokens, usage).',
    labels: ['op'],
    maxSeries: 5,
  },
  logs_written_total: {
    type: 'counter',
    help: 'Audit events written to the audit log (new rows only).',
    labels: [],
    maxSeries: 1,
  },
  logs_dropped_total: {
    type: 'counter',
    help: 'Audit events that could not be stored in the audit log.',
    labels: [],
    maxSeries: 1,
  },
  async_logger_queue_size: {
    type: 'gauge',
    help: 'Audit events queued but not yet written or dropped.',
    labels: [],
    maxSeries: 1,
  },
  async_logger_queue_maxsize: {
    type: 'gauge',
    help: 'Configured audit backlog bound (AUDIT_QUEUE_MAXSIZE).',
    labels: [],
    maxSeries: 1,
  },
  // Addition (docs/metrics.md, "Cardinality caps"): written by the METRICS objects themselves,
  // never recorded by an isolate; `family` is a name of this catalogue.
  metrics_series_folded_total: {
    type: 'counter',
    help: 'Events recorded into an overflow series ("other") instead of their own because a label or series cap of the family was full, by family.',
    labels: ['family'],
    maxSeries: 64,
  },
} as const satisfies Record<string, MetricDefinition>;

/** Label value that every value past a label's cap folds into (see docs/metrics.md). */
export const OVERFLOW_LABEL_VALUE = 'other';

/** The family that counts folded events; only the METRICS objects write it. */
export const FOLDED_FAMILY = 'metrics_series_folded_total';

export interface MetricDefinition {
  type: 'counter' | 'histogram' | 'gauge';
  help: string;
  labels: readonly string[];
  /** Histogram upper bounds, strictly increasing, finite; `+Inf` is implicit. */
  buckets?: readonly number[];
  /**
   * Most distinct values a label may take in this family; later values fold into
   * OVERFLOW_LABEL_VALUE. Enforced by the METRICS objects, so it holds across isolates.
   */
  caps?: Readonly<Record<string, number>>;
  /**
   * Hard cap on the family's series, the overflow series included: once the family holds
   * `maxSeries - 1` ordinary series, a new one folds into the series whose labels are all
   * OVERFLOW_LABEL_VALUE. Enforced at ingest by each METRICS object and again at merge.
   * Unlabelled families have exactly one series (maxSeries 1).
   */
  maxSeries: number;
}

/** Throws with a precise message if a definition breaks the exposition rules. Run at load. */
export function validateDefinitions(defs: Record<string, MetricDefinition>): void {
  const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const labelRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  for (const [name, def] of Object.entries(defs)) {
    const where = `metric ${name}`;
    if (!nameRe.test(name)) throw new Error(`${where}: invalid metric name`);
    if (def.type === 'counter' && !name.endsWith('_total'))
      throw new Error(`${where}: counter names must end in _total`);
    if (!def.help.trim()) throw new Error(`${where}: empty help`);
    if (new Set(def.labels).size !== def.labels.length)
      throw new Error(`${where}: duplicate label`);
    for (const l of def.labels) {
      if (!labelRe.test(l) || l.startsWith('__')) throw new Error(`${where}: invalid label ${l}`);
      if (def.type === 'histogram' && l === 'le') throw new Error(`${where}: label le is reserved`);
    }
    if (def.type === 'histogram') {
      const b = def.buckets ?? [];
      if (b.length === 0) throw new Error(`${where}: histogram without buckets`);
      b.forEach((v, i) => {
        if (!Number.isFinite(v)) throw new Error(`${where}: bucket ${i} is not finite`);
        if (i > 0 && v <= (b[i - 1] ?? -Infinity))
          throw new Error(`${where}: buckets must increase strictly`);
      });
    } else if (def.buckets) throw new Error(`${where}: only histograms have buckets`);
    for (const [label, max] of Object.entries(def.caps ?? {})) {
      if (!def.labels.includes(label)) throw new Error(`${where}: cap on unknown label ${label}`);
      if (!Number.isInteger(max) || max < 1) throw new Error(`${where}: cap must be ≥ 1`);
    }
    const minSeries = def.labels.length === 0 ? 1 : 2;
    if (!Number.isInteger(def.maxSeries) || def.maxSeries < minSeries)
      throw new Error(`${where}: maxSeries must be an integer ≥ ${minSeries}`);
    if (def.labels.length === 0 && def.maxSeries !== 1)
      throw new Error(`${where}: an unlabelled family has exactly one series (maxSeries 1)`);
  }
  const folded = defs[FOLDED_FAMILY];
  if (folded && folded.maxSeries < Object.keys(defs).length)
    throw new Error(`metric ${FOLDED_FAMILY}: maxSeries must cover every family of the catalogue`);
}

validateDefinitions(METRIC_DEFINITIONS);

export type MetricName = keyof typeof METRIC_DEFINITIONS;
type Def<N extends MetricName> = (typeof METRIC_DEFINITIONS)[N];
export type CounterName = {
  [N in MetricName]: Def<N>['type'] extends 'counter' ? N : never;
}[MetricName];
export type HistogramName = {
  [N in MetricName]: Def<N>['type'] extends 'histogram' ? N : never;
}[MetricName];
export type LabelsOf<N extends MetricName> = { [L in Def<N>['labels'][number]]: string };
