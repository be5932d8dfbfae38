/**
 * Metric state and the arithmetic on it, with no I/O: applying an isolate's deltas to a shard's
 * totals (validation + label and series caps), deleting series for maintenance, and merging the
 * shards' totals at scrape time. The
 * METRICS Durable Object and the /metrics route are thin wrappers around this module.
 */
import {
  FOLDED_FAMILY,
  GOVERNANCE_STAGES,
  METRIC_DEFINITIONS,
  OVERFLOW_LABEL_VALUE,
  type MetricDefinition,
  type MetricName,
} from './definitions';
import type { Exemplar, SeriesDelta } from './recorder';
import type { BacklogDelta } from '../audit/backlog';

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
  /** Audit backlog ledger buckets (src/audit/backlog.ts), applied with the deltas. */
  backlog?: BacklogDelta[];
}

/** Deltas in one flush: senders split a bigger buffer into several; the object refuses more. */
export const MAX_DELTAS_PER_FLUSH = 5000;

/** What the METRICS object accepts as a flush (anything else is refused with a TypeError). */
export function isWellFormedFlush(flush: MetricsFlush | null | undefined): flush is MetricsFlush {
  return (
    typeof flush?.id === 'string' &&
    flush.id.length > 0 &&
    flush.id.length <= 128 &&
    Array.isArray(flush.deltas) &&
    flush.deltas.length <= MAX_DELTAS_PER_FLUSH
  );
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

/** Whether these are the labels of a family's overflow series (every label `other`). */
function isOverflow(labels: readonly string[]): boolean {
  return labels.length > 0 && labels.every((v) => v === OVERFLOW_LABEL_VALUE);
}

function overflowLabels(def: MetricDefinition): string[] {
  return def.labels.map(() => OVERFLOW_LABEL_VALUE);
}

/** Events a series or delta holds: a counter's increments, a histogram's observations. */
function eventsOf(s: SeriesDelta | SeriesState): number {
  return s.kind === 'counter' ? s.value : s.count;
}

/**
 * The label values of a delta in catalogue order, or null when the delta does not fit the
 * catalogue (unknown metric, wrong kind, missing/extra labels, bad numbers, a label value that is
 * not well-formed Unicode or contains NUL, or the folded-events family, which only the objects
 * write). Deltas come from our own isolates, but an object that persists totals must not store
 * garbage.
 */
export function validateDelta(d: SeriesDelta): string[] | null {
  const def = DEFS[d.name];
  if (!def || d.name === FOLDED_FAMILY || def.type !== d.kind) return null;
  if (typeof d.labels !== 'object' || d.labels === null) return null;
  const keys = Object.keys(d.labels);
  if (keys.length !== def.labels.length) return null;
  const values: string[] = [];
  for (const l of def.labels) {
    const v = d.labels[l];
    if (
      typeof v !== 'string' ||
      v.length > MAX_LABEL_VALUE_LENGTH ||
      !v.isWellFormed() ||
      v.includes('\u0000')
    )
      return null;
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

/**
 * Which stored series a maintenance delete removes (docs/metrics.md, "Maintenance"): the family,
 * if given, and every listed label equal to the given value. A stored value is compared as
 * /metrics shows it (made well-formed), so a value copied from a scrape matches.
 */
export interface SeriesFilter {
  family?: string;
  labels?: Readonly<Record<string, string>>;
}

export function seriesMatches(s: SeriesState, filter: SeriesFilter): boolean {
  if (filter.family !== undefined && s.name !== filter.family) return false;
  const names = DEFS[s.name]?.labels ?? [];
  for (const [label, value] of Object.entries(filter.labels ?? {})) {
    const i = names.indexOf(label);
    if (i < 0 || s.labels[i]?.toWellFormed() !== value) return false;
  }
  return true;
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
  /** Ordinary (not overflow) series per labelled family, for the family's series cap. */
  #ordinary = new Map<string, number>();

  constructor(initial: Iterable<SeriesState> = []) {
    for (const s of initial) this.#install(s);
  }

  get size(): number {
    return this.#series.size;
  }

  all(): SeriesState[] {
    return [...this.#series.values()];
  }

  /** Ordinary series of a family (its overflow series not counted). */
  ordinaryCount(name: string): number {
    return this.#ordinary.get(name) ?? 0;
  }

  plan(deltas: readonly SeriesDelta[], now: number): ApplyPlan {
    const touched = new Map<string, SeriesState>();
    const admittedNow = new Map<string, Set<string>>();
    const createdNow = new Map<string, number>();
    const folded = new Map<string, number>();
    let rejected = 0;
    const stateFor = (
      key: string,
      kind: SeriesState['kind'],
      name: MetricName,
      labels: string[],
    ) => {
      let state = touched.get(key);
      if (!state) {
        const current = this.#series.get(key);
        state = current ? cloneState(current) : emptyState(kind, name, labels, now);
        touched.set(key, state);
      }
      return state;
    };
    for (const d of deltas) {
      let values = validateDelta(d);
      if (!values) {
        rejected++;
        continue;
      }
      const def = DEFS[d.name]!;
      let fold = false;
      // Label caps: a value not yet admitted is admitted while the label has room, otherwise
      // it folds into the overflow value. Admissions count only once the series is admitted.
      const admits: Array<[string, string]> = [];
      for (const [label, max] of Object.entries(def.caps ?? {})) {
        const i = def.labels.indexOf(label);
        const v = values[i]!;
        if (v === OVERFLOW_LABEL_VALUE) continue;
        const k = capKey(d.name, label);
        const known = this.#admitted.get(k);
        const fresh = admittedNow.get(k);
        if (known?.has(v) || fresh?.has(v)) continue;
        if ((known?.size ?? 0) + (fresh?.size ?? 0) < max) {
          admits.push([k, v]);
        } else {
          values[i] = OVERFLOW_LABEL_VALUE;
          fold = true;
        }
      }
      let key = seriesKey(d.name, values);
      // Series cap: a series not stored yet is admitted while the family has room for it and
      // its overflow series; otherwise it folds into the overflow series.
      if (
        def.labels.length > 0 &&
        !isOverflow(values) &&
        !touched.has(key) &&
        !this.#series.has(key)
      ) {
        const created = createdNow.get(d.name) ?? 0;
        if (this.ordinaryCount(d.name) + created >= def.maxSeries - 1) {
          values = overflowLabels(def);
          key = seriesKey(d.name, values);
          fold = true;
          admits.length = 0;
        } else {
          createdNow.set(d.name, created + 1);
        }
      }
      for (const [k, v] of admits) {
        let set = admittedNow.get(k);
        if (!set) admittedNow.set(k, (set = new Set()));
        set.add(v);
      }
      if (fold) folded.set(d.name, (folded.get(d.name) ?? 0) + eventsOf(d));
      addInto(stateFor(key, d.kind, d.name, values), d);
    }
    // What was folded is counted in the same transaction, so it is exact like everything else.
    for (const [family, n] of folded) {
      const state = stateFor(seriesKey(FOLDED_FAMILY, [family]), 'counter', FOLDED_FAMILY, [
        family,
      ]);
      if (state.kind === 'counter') state.value += n;
    }
    return { updates: [...touched.values()], rejected };
  }

  commit(updates: readonly SeriesState[]): void {
    for (const s of updates) this.#install(s);
  }

  /** The stored series a maintenance delete with this filter removes. */
  matching(filter: SeriesFilter): SeriesState[] {
    return this.all().filter((s) => seriesMatches(s, filter));
  }

  /**
   * Forgets these series (after they were deleted from storage) and rebuilds the cap
   * bookkeeping of their families, so freed room admits new values and series again.
   */
  remove(victims: readonly SeriesState[]): void {
    const families = new Set<string>();
    for (const s of victims) {
      if (!this.#series.delete(seriesKey(s.name, s.labels))) continue;
      families.add(s.name);
      if (s.labels.length > 0 && !isOverflow(s.labels))
        this.#ordinary.set(s.name, this.ordinaryCount(s.name) - 1);
    }
    for (const name of families)
      for (const label of Object.keys(DEFS[name]?.caps ?? {}))
        this.#admitted.delete(capKey(name, label));
    for (const s of this.#series.values()) if (families.has(s.name)) this.#admit(s);
  }

  #install(s: SeriesState): void {
    const key = seriesKey(s.name, s.labels);
    if (!this.#series.has(key) && s.labels.length > 0 && !isOverflow(s.labels))
      this.#ordinary.set(s.name, this.ordinaryCount(s.name) + 1);
    this.#series.set(key, s);
    this.#admit(s);
  }

  #admit(s: SeriesState): void {
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

/** Orders by first-seen time, then by key: the order in which caps admit. */
function byFirstSeen(a: [string, number], b: [string, number]): number {
  return a[1] !== b[1] ? a[1] - b[1] : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/**
 * Sums the shards' totals into one exact view. Each shard caps labels and series on its own, so
 * the union can exceed a cap; the caps are applied again here, admitting the values (then the
 * series) first seen earliest (ties by value). Values are only ever admitted in first-seen order,
 * so a series that is shown stays shown (short of clock skew between objects or a maintenance
 * delete) and counters never move between series. What this folds is added to
 * `metrics_series_folded_total`. Label values that are not well-formed Unicode (stored before
 * they were refused) are made well-formed here, merging any series that then coincide.
 * Also adds the series that always exist (unlabelled counters, one latency series per stage,
 * one folded-events series per labelled family).
 * The result may share objects with the input; treat both as read-only.
 */
export function mergeSnapshots(snapshots: readonly (readonly SeriesState[])[]): SeriesState[] {
  // Inputs are shared, not copied, until a second shard contributes to the same series (the
  // common case is one shard per series); only copies are ever mutated.
  const merged = new Map<string, SeriesState>();
  const owned = new Set<SeriesState>();
  const add = (input: SeriesState, copy = false) => {
    let s = input;
    if (!s.labels.every((v) => v.isWellFormed())) {
      s = { ...cloneState(s), labels: s.labels.map((v) => v.toWellFormed()) };
      copy = true;
    }
    const key = seriesKey(s.name, s.labels);
    let target = merged.get(key);
    if (!target) {
      merged.set(key, s);
      if (copy) owned.add(s);
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

  const folded = new Map<string, number>();
  /** Re-adds every series, moving those `relabel` names to new labels (counted as folded). */
  const rebuild = (relabel: (s: SeriesState) => string[] | null) => {
    const before = [...merged.values()];
    merged.clear();
    owned.clear();
    for (const s of before) {
      const labels = relabel(s);
      if (!labels) {
        add(s);
        continue;
      }
      folded.set(s.name, (folded.get(s.name) ?? 0) + eventsOf(s));
      add({ ...cloneState(s), labels }, true);
    }
  };

  // Global label caps: per capped (family, label), admit the `max` values first seen earliest.
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
      const ranked = [...first.entries()].sort(byFirstSeen);
      admitted.set(capKey(name, label), new Set(ranked.slice(0, max).map(([v]) => v)));
    }
  }
  if (admitted.size > 0) {
    rebuild((s) => {
      const def = DEFS[s.name]!;
      let labels: string[] | null = null;
      for (const label of Object.keys(def.caps ?? {})) {
        const set = admitted.get(capKey(s.name, label));
        const i = def.labels.indexOf(label);
        if (set && s.labels[i] !== OVERFLOW_LABEL_VALUE && !set.has(s.labels[i]!)) {
          labels ??= [...s.labels];
          labels[i] = OVERFLOW_LABEL_VALUE;
        }
      }
      return labels;
    });
  }

  // Global series caps: per family, keep the `maxSeries - 1` ordinary series first seen earliest.
  const ordinary = new Map<string, Array<[string, number]>>();
  for (const [key, s] of merged) {
    if (s.labels.length === 0 || isOverflow(s.labels)) continue;
    let list = ordinary.get(s.name);
    if (!list) ordinary.set(s.name, (list = []));
    list.push([key, s.firstSeen]);
  }
  const dropped = new Set<string>();
  for (const [name, list] of ordinary) {
    const max = DEFS[name]!.maxSeries - 1;
    if (list.length <= max) continue;
    for (const [key] of list.sort(byFirstSeen).slice(max)) dropped.add(key);
  }
  if (dropped.size > 0) {
    rebuild((s) =>
      dropped.has(seriesKey(s.name, s.labels)) ? overflowLabels(DEFS[s.name]!) : null,
    );
  }

  for (const [family, n] of folded)
    add({ kind: 'counter', name: FOLDED_FAMILY, labels: [family], firstSeen: 0, value: n }, true);

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
    if (def.type !== 'gauge' && def.labels.length > 0 && name !== FOLDED_FAMILY)
      out.push(emptyState('counter', FOLDED_FAMILY, [name], 0));
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
