/**
 * METRICS: one shard of the cross-isolate metric totals (see docs/metrics.md). Isolates send
 * delta batches (`ingest`), /metrics reads every shard (`snapshot`) and merges them, and the
 * maintenance route deletes series (`deleteSeries`).
 *
 * Exactly-once: each flush carries an id; the id and the new totals are written in one storage
 * transaction, so a retried flush is recognised and skipped, and a crash leaves either both or
 * neither. Totals live in SQLite, so eviction or a restart does not reset counters; the in-memory
 * table is a cache rebuilt from storage on first use.
 *
 * Storage layout (SQLite):
 *   series(name, labels, kind, first_seen, value, sum, count, buckets)
 *     PRIMARY KEY (name, labels); labels = JSON array of label values in catalogue order;
 *     counters use `value`; histograms use `sum`, `count` and `buckets` (JSON array of
 *     non-cumulative counts, last = +Inf).
 *   applied_flushes(id PRIMARY KEY, applied_at) — ids of applied flushes, kept DEDUPE_RETENTION_MS.
 *   audit_backlog(bucket PRIMARY KEY, sent, resolved) — the audit backlog ledger
 *     (src/audit/backlog.ts), applied in the same transaction as its flush; buckets past the
 *     horizon are pruned.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import {
  isWellFormedFlush,
  SeriesTable,
  type MetricsFlush,
  type SeriesFilter,
  type SeriesState,
} from './aggregate';
import { METRIC_DEFINITIONS, type MetricName } from './definitions';
import { oldestLiveBucket, validBacklogDelta, type BacklogDelta } from '../audit/backlog';

/**
 * How long a flush id is remembered: twice the time a sender keeps retrying one
 * (MAX_PENDING_AGE_MS in flush.ts), so every retry of an applied flush is recognised.
 */
export const DEDUPE_RETENTION_MS = 20 * 60 * 1000;
/** Old ids are pruned at most this often, not on every ingest. */
const PRUNE_EVERY_MS = 60 * 1000;

export interface DeleteResult {
  /** Series that matched the filter in this shard (deleted unless it was a dry run). */
  matched: number;
}

export interface IngestResult {
  /** False when this id was already applied (a retry); the totals did not change. */
  applied: boolean;
  rejected: number;
}

interface SeriesRow extends Record<string, SqlStorageValue> {
  name: string;
  labels: string;
  kind: string;
  first_seen: number;
  value: number;
  sum: number;
  count: number;
  buckets: string | null;
}

export class Metrics extends DurableObject<Env> {
  #table: SeriesTable | undefined;
  #lastPrune = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS series (
        name TEXT NOT NULL,
        labels TEXT NOT NULL,
        kind TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        value REAL NOT NULL DEFAULT 0,
        sum REAL NOT NULL DEFAULT 0,
        count INTEGER NOT NULL DEFAULT 0,
        buckets TEXT,
        PRIMARY KEY (name, labels)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS applied_flushes (
        id TEXT PRIMARY KEY,
        applied_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS applied_flushes_at ON applied_flushes (applied_at);
      CREATE TABLE IF NOT EXISTS audit_backlog (
        bucket INTEGER PRIMARY KEY,
        sent INTEGER NOT NULL DEFAULT 0,
        resolved INTEGER NOT NULL DEFAULT 0
      );
    `);
  }

  /** Applies one flush exactly once. `now` is injectable for tests; production passes none. */
  ingest(flush: MetricsFlush, now: number = Date.now()): IngestResult {
    if (!isWellFormedFlush(flush)) {
      throw new TypeError('malformed metrics flush');
    }
    const table = this.#load();
    const sql = this.ctx.storage.sql;
    const plan = this.ctx.storage.transactionSync(() => {
      if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
        sql.exec('DELETE FROM applied_flushes WHERE applied_at < ?', now - DEDUPE_RETENTION_MS);
        sql.exec('DELETE FROM audit_backlog WHERE bucket < ?', oldestLiveBucket(now));
        this.#lastPrune = now;
      }
      if (sql.exec('SELECT 1 FROM applied_flushes WHERE id = ?', flush.id).toArray().length > 0)
        return null;
      const plan = table.plan(flush.deltas, now);
      for (const b of flush.backlog ?? []) {
        if (!validBacklogDelta(b)) continue;
        sql.exec(
          `INSERT INTO audit_backlog (bucket, sent, resolved) VALUES (?, ?, ?)
           ON CONFLICT (bucket) DO UPDATE SET
             sent = sent + excluded.sent, resolved = resolved + excluded.resolved`,
          b.bucket,
          b.sent,
          b.resolved,
        );
      }
      for (const s of plan.updates) {
        sql.exec(
          `INSERT INTO series (name, labels, kind, first_seen, value, sum, count, buckets)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name, labels) DO UPDATE SET
             value = excluded.value, sum = excluded.sum, count = excluded.count,
             buckets = excluded.buckets`,
          s.name,
          JSON.stringify(s.labels),
          s.kind,
          s.firstSeen,
          s.kind === 'counter' ? s.value : 0,
          s.kind === 'histogram' ? s.sum : 0,
          s.kind === 'histogram' ? s.count : 0,
          s.kind === 'histogram' ? JSON.stringify(s.buckets) : null,
        );
      }
      sql.exec('INSERT INTO applied_flushes (id, applied_at) VALUES (?, ?)', flush.id, now);
      return plan;
    });
    if (!plan) return { applied: false, rejected: 0 };
    // Memory follows storage only once the transaction has committed.
    table.commit(plan.updates);
    return { applied: true, rejected: plan.rejected };
  }

  /** This shard's totals. */
  snapshot(): SeriesState[] {
    return this.#load().all();
  }

  /**
   * Maintenance (POST /admin/metrics/delete-series): deletes the series matching `filter` from
   * storage and memory in one step, and rebuilds the cap bookkeeping so the room they held is
   * free again. Flush ids are kept, so a retried flush that was already applied stays skipped:
   * deleting never causes double counting. Increments still in an isolate's buffer for a
   * deleted series recreate it with just those increments.
   */
  deleteSeries(filter: SeriesFilter, dryRun = false): DeleteResult {
    const defs: Record<string, unknown> = METRIC_DEFINITIONS;
    if (
      typeof filter !== 'object' ||
      filter === null ||
      (filter.family !== undefined && !Object.hasOwn(defs, filter.family)) ||
      (filter.family === undefined && Object.keys(filter.labels ?? {}).length === 0)
    ) {
      throw new TypeError('malformed series filter');
    }
    const table = this.#load();
    const victims = table.matching(filter);
    if (dryRun || victims.length === 0) return { matched: victims.length };
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const s of victims)
        sql.exec(
          'DELETE FROM series WHERE name = ? AND labels = ?',
          s.name,
          JSON.stringify(s.labels),
        );
    });
    // Memory follows storage only once the transaction has committed.
    table.remove(victims);
    return { matched: victims.length };
  }

  /** This shard's audit backlog ledger within the horizon. */
  backlog(now: number = Date.now()): BacklogDelta[] {
    return this.ctx.storage.sql
      .exec<{ bucket: number; sent: number; resolved: number }>(
        'SELECT bucket, sent, resolved FROM audit_backlog WHERE bucket >= ?',
        oldestLiveBucket(now),
      )
      .toArray()
      .map((r) => ({ bucket: r.bucket, sent: r.sent, resolved: r.resolved }));
  }

  #load(): SeriesTable {
    if (this.#table) return this.#table;
    const rows = this.ctx.storage.sql.exec<SeriesRow>('SELECT * FROM series').toArray();
    this.#table = new SeriesTable(rows.map(rowToState));
    return this.#table;
  }
}

function rowToState(r: SeriesRow): SeriesState {
  const base = {
    name: r.name as MetricName,
    labels: JSON.parse(r.labels) as string[],
    firstSeen: r.first_seen,
  };
  return r.kind === 'histogram'
    ? {
        ...base,
        kind: 'histogram',
        sum: r.sum,
        count: r.count,
        buckets: JSON.parse(r.buckets ?? '[]') as number[],
      }
    : { ...base, kind: 'counter', value: r.value };
}
