/**
 * Metric state and the arithmetic on it, with no I/O: applying an isolate's deltas to a shard's
 * totals (validation + cardinality caps), and merging the shards' totals at scrape time. The
 * METRICS Durable Object and the /metrics route are thin wrappers around this module.
 */
import {
  GOVERNANCE_STAGES,
  METRIC_DEFINITIONS,
  OVERFLOW_LABEL_VALUE,
  type MetricDefinition,
  type MetricName,
} from './definitions';
import type { Exemplar, SeriesDelta } from './recorder';

interface SeriesBase {
  name: MetricName;
  /** Label values in the catalogue's label order. */
  labels: string[];
  /** When a METRICS object first stored this series (ms since epoch); orders cap admission. */
  firstSeen: number;
}
export interface CounterState extends SeriesBase {
  kind: 'counter';
  value: number;
}
export interface HistogramState extends SeriesBase {
  kind: 'histogram';
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf overflow. */
  buckets: number[];
  sum: number;
  count: number;
  /**
   * Per bucket, the newest exemplar seen (OpenMetrics). Kept in memory only — a METRICS object
   * that restarts starts without them — and never part of the counts.
   */
  exemplars?: Array<Exemplar | null>;
}
export type SeriesState = CounterState | HistogramState;

/** One isolate's batch of deltas; `id` makes a retried delivery idempotent. */
export interface MetricsFlush {
  id: string;
  deltas: SeriesDelta[];
}

const DEFS: Record<string, MetricDefinition> = METRIC_DEFINITIONS;
/** Longest label value stored; longer values (only possible through a bug) are rejected. */
const MAX_LABEL_VALUE_LENGTH = 256;

export function seriesKey(name: string, labels: readonly string[]): string {
  return name + '\u0000' + labels.join('\u0000');
}

function capKey(name: string, label: string): string {
  return name + '\u0000' + label;
}

function isFiniteNonNegative(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}

/**
 * The label values of a delta in catalogue order, or null when the delta does not fit the
 * catalogue (unknown metric, wrong kind, missing/extra labels, bad numbers). Deltas come from
 * our own isolates, but an object that persists totals forever must not store garbage.
 */
export function validateDelta(d: SeriesDelta): string[] | null {
  const def = DEFS[d.name];
  if (!def || def.type !== d.kind || typeof d.labels !== 'object' || d.labels === null) return null;
  const keys = Object.keys(d.labels);
  if (keys.length !== def.labels.length) return null;
  const values: string[] = [];
  for (const l of def.labels) {
    const v = d.labels[l];
    if (typeof v !== 'string' || v.length > MAX_LABEL_VALUE_LENGTH) return null;
    values.push(v);
  }
  if (d.kind === 'counter') return isFiniteNonNegative(d.value) ? values : null;
  const bounds = def.buckets ?? [];
  if (
    !Array.isArray(d.buckets) ||
    d.buckets.length !== bounds.length + 1 ||
    !d.buckets.every((b) => Number.isInteger(b) && b >= 0) ||
    !Number.isInteger(d.count) ||
    d.count !== d.buckets.reduce((a, b) => a + b, 0) ||
    typeof d.sum !== 'number' ||
    !Number.isFinite(d.sum)
  ) {
    return null;
  }
  return values;
}

function cloneState(s: SeriesState): SeriesState {
  if (s.kind === 'counter') return { ...s, labels: [...s.labels] };
  const copy: HistogramState = { ...s, labels: [...s.labels], buckets: [...s.buckets] };
  if (s.exemplars) copy.exemplars = [...s.exemplars];
  return copy;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/** Whether `e` is a well-formed exemplar of bucket `i` of `def` (value inside the bucket). */
function validExemplar(e: unknown, def: MetricDefinition | undefined, i: number): e is Exemplar {
  if (e === null || typeof e !== 'object') return false;
  const { traceId, value, ts } = e as Partial<Exemplar>;
  const bounds = def?.buckets ?? [];
  const upper = i < bounds.length ? (bounds[i] ?? Infinity) : Infinity;
  const lower = i > 0 ? (bounds[i - 1] ?? -Infinity) : -Infinity;
  return (
    typeof traceId === 'string' &&
    TRACE_ID.test(traceId) &&
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value <= upper &&
    value > lower &&
    typeof ts === 'number' &&
    Number.isFinite(ts)
  );
}

/** Keeps, per bucket, the newer of the target's and the source's exemplars (bounded: one each). */
function mergeExemplars(target: HistogramState, source: ReadonlyArray<unknown> | undefined): void {
  if (!Array.isArray(source)) return;
  const def = DEFS[target.name];
  for (let i = 0; i < target.buckets.length && i < source.length; i++) {
    const e = source[i];
    if (!validExemplar(e, def, i)) continue;
    const current = target.exemplars?.[i];
    if (current && current.ts > e.ts) continue;
    target.exemplars ??= new Array<Exemplar | null>(target.buckets.length).fill(null);
    target.exemplars[i] = { traceId: e.traceId, value: e.value, ts: e.ts };
  }
}

function emptyState(
  kind: SeriesState['kind'],
  name: MetricName,
  labels: string[],
  now: number,
): SeriesState {
  if (kind === 'counter') return { kind, name, labels, firstSeen: now, value: 0 };
  const n = (DEFS[name]?.buckets?.length ?? 0) + 1;
  return {
    kind,
    name,
    labels,
    firstSeen: now,
    buckets: new Array<number>(n).fill(0),
    sum: 0,
    count: 0,
  };
}

function addInto(target: SeriesState, d: SeriesDelta | SeriesState): void {
  if (target.kind === 'counter' && d.kind === 'counter') {
    target.value += d.value;
  } else if (target.kind === 'histogram' && d.kind === 'histogram') {
    for (let i = 0; i < target.buckets.length; i++) target.buckets[i]! += d.buckets[i] ?? 0;
    target.sum += d.sum;
    target.count += d.count;
    mergeExemplars(target, d.exemplars);
  }
}

export interface ApplyPlan {
  /** New full states of every series the flush touched (copies; commit after persisting). */
  updates: SeriesState[];
  /** Deltas that did not fit the catalogue and were ignored. */
  rejected: number;
}

/**
 * One shard's totals. `plan` computes the effect of a flush without mutating anything, so the
 * object can persist the result in a transaction first and only then `commit` it to memory.
 */
export class SeriesTable {
  #series = new Map<string, SeriesState>();
  /** Admitted values per capped (family, label). The overflow value is never counted. */
  #admitted = new Map<string, Set<string>>();

  constructor(initial: Iterable<SeriesState> = []) {
    for (const s of initial) this.#install(s);
  }

  get size(): number {
    return this.#series.size;
  }

  all(): SeriesState[] {
    return [...this.#series.values()];
  }

  plan(deltas: readonly SeriesDelta[], now: number): ApplyPlan {
    const touched = new Map<string, SeriesState>();
    const admittedNow = new Map<string, Set<string>>();
    let rejected = 0;
    for (const d of deltas) {
      const values = validateDelta(d);
      if (!values) {
        rejected++;
        continue;
      }
      const def = DEFS[d.name]!;
      // Cardinality caps: a value not yet admitted is admitted while the label has room,
      // otherwise it folds into the overflow value.
      for (const [label, max] of Object.entries(def.caps ?? {})) {
        const i = def.labels.indexOf(label);
        const v = values[i]!;
        if (v === OVERFLOW_LABEL_VALUE) continue;
        const k = capKey(d.name, label);
        const known = this.#admitted.get(k);
        const fresh = admittedNow.get(k) ?? new Set<string>();
        if (known?.has(v) || fresh.has(v)) continue;
        if ((known?.size ?? 0) + fresh.size < max) {
          fresh.add(v);
          admittedNow.set(k, fresh);
        } else {
          values[i] = OVERFLOW_LABEL_VALUE;
        }
      }
      const key = seriesKey(d.name, values);
      let state = touched.get(key);
      if (!state) {
        const current = this.#series.get(key);
        state = current ? cloneState(current) : emptyState(d.kind, d.name, values, now);
        touched.set(key, state);
      }
      addInto(state, d);
    }
    return { updates: [...touched.values()], rejected };
  }

  commit(updates: readonly SeriesState[]): void {
    for (const s of updates) this.#install(s);
  }

  #install(s: SeriesState): void {
    this.#series.set(seriesKey(s.name, s.labels), s);
    const def = DEFS[s.name];
    for (const label of Object.keys(def?.caps ?? {})) {
      const v = s.labels[def!.labels.indexOf(label)];
      if (v === undefined || v === OVERFLOW_LABEL_VALUE) continue;
      const k = capKey(s.name, label);
      let set = this.#admitted.get(k);
      if (!set) this.#admitted.set(k, (set = new Set()));
      set.add(v);
    }
  }
}

/**
 * Sums the shards' totals into one exact view. Each shard caps labels on its own, so the union
 * can exceed a cap; the cap is applied again here, admitting the values first seen earliest
 * (ties by value). Values are only ever admitted in first-seen order, so a series that is shown
 * stays shown (short of clock skew between objects) and counters never move between series.
 * Also adds the series that always exist (unlabelled counters, one latency series per stage).
 * The result may share objects with the input; treat both as read-only.
 */
export function mergeSnapshots(snapshots: readonly (readonly SeriesState[])[]): SeriesState[] {
  // Inputs are shared, not copied, until a second shard contributes to the same series (the
  // common case is one shard per series); only copies are ever mutated.
  const merged = new Map<string, SeriesState>();
  const owned = new Set<SeriesState>();
  const add = (s: SeriesState) => {
    const key = seriesKey(s.name, s.labels);
    let target = merged.get(key);
    if (!target) {
      merged.set(key, s);
      return;
    }
    if (!owned.has(target)) {
      target = cloneState(target);
      owned.add(target);
      merged.set(key, target);
    }
    addInto(target, s);
    target.firstSeen = Math.min(target.firstSeen, s.firstSeen);
  };
  for (const snapshot of snapshots) for (const s of snapshot) add(s);

  // Global caps: per capped (family, label), admit the `max` values first seen earliest.
  const admitted = new Map<string, Set<string>>();
  const byName = new Map<string, SeriesState[]>();
  for (const s of merged.values()) {
    if (!DEFS[s.name]?.caps) continue;
    let list = byName.get(s.name);
    if (!list) byName.set(s.name, (list = []));
    list.push(s);
  }
  for (const [name, list] of byName) {
    const def = DEFS[name]!;
    for (const [label, max] of Object.entries(def.caps ?? {})) {
      const i = def.labels.indexOf(label);
      const first = new Map<string, number>();
      for (const s of list) {
        const v = s.labels[i]!;
        if (v === OVERFLOW_LABEL_VALUE) continue;
        const seen = first.get(v);
        if (seen === undefined || s.firstSeen < seen) first.set(v, s.firstSeen);
      }
      if (first.size <= max) continue;
      const ranked = [...first.entries()].sort((a, b) =>
        a[1] !== b[1] ? a[1] - b[1] : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
      );
      admitted.set(capKey(name, label), new Set(ranked.slice(0, max).map(([v]) => v)));
    }
  }
  if (admitted.size > 0) {
    const before = [...merged.values()];
    merged.clear();
    owned.clear();
    for (const s of before) {
      const def = DEFS[s.name]!;
      let labels = s.labels;
      for (const label of Object.keys(def.caps ?? {})) {
        const set = admitted.get(capKey(s.name, label));
        const i = def.labels.indexOf(label);
        if (set && labels[i] !== OVERFLOW_LABEL_VALUE && !set.has(labels[i]!)) {
          if (labels === s.labels) labels = [...labels];
          labels[i] = OVERFLOW_LABEL_VALUE;
        }
      }
      add(labels === s.labels ? s : { ...cloneState(s), labels });
    }
  }

  for (const s of alwaysPresent()) {
    const key = seriesKey(s.name, s.labels);
    if (!merged.has(key)) merged.set(key, s);
  }
  return [...merged.values()];
}

/** Series exported even before anything happened, so rates and alerts start from zero. */
function alwaysPresent(): SeriesState[] {
  const out: SeriesState[] = [];
  for (const [name, def] of Object.entries(DEFS) as [MetricName, MetricDefinition][]) {
    if (def.type === 'counter' && def.labels.length === 0)
      out.push(emptyState('counter', name, [], 0));
  }
  for (const stage of GOVERNANCE_STAGES)
    out.push(emptyState('histogram', 'governance_check_latency_ms', [stage], 0));
  return out;
}

/** Sum of a counter family's series (e.g. logs_queued_total). */
export function counterTotal(series: readonly SeriesState[], name: MetricName): number {
  let total = 0;
  for (const s of series) if (s.name === name && s.kind === 'counter') total += s.value;
  return total;
}
