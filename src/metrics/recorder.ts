/**
 * The recording API every component uses. Records go into a per-isolate delta buffer; nothing
 * here does I/O. `flushMetrics` (flush.ts) ships the buffer to the METRICS Durable Object(s)
 * from `ctx.waitUntil`.
 */
import { backlogBucket, type BacklogDelta } from '../audit/backlog';
import {
  METRIC_DEFINITIONS,
  type CounterName,
  type HistogramName,
  type LabelsOf,
  type MetricName,
} from './definitions';

export interface CounterDelta {
  kind: 'counter';
  name: MetricName;
  labels: Record<string, string>;
  value: number;
}

export interface HistogramDelta {
  kind: 'histogram';
  name: MetricName;
  labels: Record<string, string>;
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf overflow. */
  buckets: number[];
  sum: number;
  count: number;
  /** Per bucket, the latest observation that carried a trace id (OpenMetrics exemplars). */
  exemplars?: Array<Exemplar | null>;
}

/** One observation linked to its request's trace: an OpenMetrics exemplar. */
export interface Exemplar {
  /** W3C trace id (32 lowercase hex digits). */
  traceId: string;
  /** The observed value. */
  value: number;
  /** When it was observed, epoch milliseconds. */
  ts: number;
}

export type SeriesDelta = CounterDelta | HistogramDelta;

export class MetricsRecorder {
  #buffer = new Map<string, SeriesDelta>();
  #backlog = new Map<number, BacklogDelta>();

  /**
   * Audit backlog ledger (src/audit/backlog.ts): `sent` events handed to the queue or stored,
   * `resolved` events written or dropped, by the bucket of each event's decision time.
   */
  backlog(tsMs: number, change: { sent?: number; resolved?: number }): void {
    const bucket = backlogBucket(tsMs);
    let d = this.#backlog.get(bucket);
    if (!d) {
      d = { bucket, sent: 0, resolved: 0 };
      this.#backlog.set(bucket, d);
    }
    d.sent += change.sent ?? 0;
    d.resolved += change.resolved ?? 0;
  }

  /** Takes the backlog ledger recorded so far. */
  drainBacklog(): BacklogDelta[] {
    const out = [...this.#backlog.values()];
    this.#backlog = new Map();
    return out;
  }

  inc<N extends CounterName>(name: N, labels: LabelsOf<N>, value = 1): void {
    const key = seriesKey(name, labels);
    const existing = this.#buffer.get(key);
    if (existing?.kind === 'counter') existing.value += value;
    else this.#buffer.set(key, { kind: 'counter', name, labels: { ...labels }, value });
  }

  /**
   * Records one observation. With `traceId`, it also becomes its bucket's exemplar (the latest
   * one wins: one per bucket, so memory stays bounded by the series count).
   */
  observe<N extends HistogramName>(
    name: N,
    labels: LabelsOf<N>,
    value: number,
    traceId?: string,
  ): void {
    const bounds = METRIC_DEFINITIONS[name].buckets;
    const key = seriesKey(name, labels);
    let h = this.#buffer.get(key);
    if (h?.kind !== 'histogram') {
      h = {
        kind: 'histogram',
        name,
        labels: { ...labels },
        buckets: new Array<number>(bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.#buffer.set(key, h);
    }
    let i = 0;
    while (i < bounds.length && value > (bounds[i] ?? Infinity)) i++;
    h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    h.sum += value;
    h.count += 1;
    if (traceId !== undefined) {
      h.exemplars ??= new Array<Exemplar | null>(bounds.length + 1).fill(null);
      h.exemplars[i] = { traceId, value, ts: Date.now() };
    }
  }

  /** Takes everything recorded so far, leaving the buffer empty. */
  drain(): SeriesDelta[] {
    const out = [...this.#buffer.values()];
    this.#buffer = new Map();
    return out;
  }

  /** Series and ledger buckets waiting to be flushed. */
  get pending(): number {
    return this.#buffer.size + this.#backlog.size;
  }
}

/** Buffer key: name and label values in catalogue order (cheaper than JSON.stringify). */
function seriesKey(name: MetricName, labels: Record<string, string>): string {
  let key: string = name;
  for (const l of METRIC_DEFINITIONS[name].labels) key += '\u0000' + labels[l];
  return key;
}

/** The isolate's recorder. */
export const metrics = new MetricsRecorder();
