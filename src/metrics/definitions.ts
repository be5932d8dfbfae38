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
  },
  request_latency_ms: {
    type: 'histogram',
    help: 'HTTP request latency in milliseconds, by route pattern.',
    labels: ['endpoint'],
    buckets: REQUEST_LATENCY_BUCKETS_MS,
  },
  governance_allowed_total: {
    type: 'counter',
    help: 'Governance decisions that allowed the call, by model and operation.',
    labels: ['model', 'operation'],
  },
  governance_blocked_total: {
    type: 'counter',
    help: 'Governance decisions that blocked the call, by model, operation and reason.',
    labels: ['model', 'operation', 'reason'],
  },
  governance_check_latency_ms: {
    type: 'histogram',
    help: 'Time spent in each governance stage in milliseconds.',
    labels: ['stage'],
    buckets: CHECK_LATENCY_BUCKETS_MS,
  },
  rate_limit_hits_total: {
    type: 'counter',
    help: 'Requests refused by the rate limiter, by API key id.',
    labels: ['api_key_id'],
  },
  logs_queued_total: {
    type: 'counter',
    help: 'Audit events sent to the audit queue.',
    labels: [],
  },
  // Addition to the original catalogue (docs/rate-limit.md): the rate limiter's failure policy.
  rate_limit_failures_total: {
    type: 'counter',
    help: 'Requests decided by RATE_LIMIT_FAILURE_MODE because the rate limiter failed, by mode.',
    labels: ['mode'],
  },
  logs_written_total: {
    type: 'counter',
    help: 'Audit events written to the audit log (new rows only).',
    labels: [],
  },
  logs_dropped_total: {
    type: 'counter',
    help: 'Audit events that could not be stored in the audit log.',
    labels: [],
  },
  async_logger_queue_size: {
    type: 'gauge',
    help: 'Audit events queued but not yet written or dropped.',
    labels: [],
  },
  async_logger_queue_maxsize: {
    type: 'gauge',
    help: 'Configured audit backlog bound (AUDIT_QUEUE_MAXSIZE).',
    labels: [],
  },
} as const satisfies Record<string, MetricDefinition>;

export interface MetricDefinition {
  type: 'counter' | 'histogram' | 'gauge';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

export type MetricName = keyof typeof METRIC_DEFINITIONS;
type Def<N extends MetricName> = (typeof METRIC_DEFINITIONS)[N];
export type CounterName = {
  [N in MetricName]: Def<N>['type'] extends 'counter' ? N : never;
}[MetricName];
export type HistogramName = {
  [N in MetricName]: Def<N>['type'] extends 'histogram' ? N : never;
}[MetricName];
export type LabelsOf<N extends MetricName> = { [L in Def<N>['labels'][number]]: string };
