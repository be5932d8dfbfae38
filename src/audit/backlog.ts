/**
 * `async_logger_queue_size`: audit events handed to the logger but not yet stored or dropped.
 *
 * It used to be `logs_queued_total − logs_written_total − logs_dropped_total`, from counters kept
 * forever, so one event lost without a trace (an isolate killed with events in its buffer, a
 * metrics flush given up) or counted twice left the gauge wrong for good — and a QueueBackup
 * alert firing forever. Now each event is counted in a ledger bucket named by its decision time
 * (`ts`, known to both producer and consumer): the producer adds it to `sent`, the writer or the
 * dead-letter path to `resolved`. The gauge sums `sent − resolved` over the buckets of the last
 * BACKLOG_HORIZON_MS, so any error ages out within the horizon. The horizon is longer than an
 * event can legitimately be in flight unnoticed (queue retries ≈ 15 s, the dead-letter queue's
 * ≈ 15 min), and a backlog that persists keeps adding new events to recent buckets, so
 * QueueBackup still fires while the consumer is stuck.
 *
 * The ledger travels with the metrics flush (exactly once, see src/metrics/flush.ts) and lives
 * in the METRICS objects next to the counters; this module is the arithmetic.
 */

export const BACKLOG_BUCKET_MS = 60_000;
export const BACKLOG_HORIZON_MS = 60 * 60_000;

/** Counts for one bucket (an epoch minute). */
export interface BacklogDelta {
  bucket: number;
  sent: number;
  resolved: number;
}

export function backlogBucket(tsMs: number): number {
  return Math.floor(tsMs / BACKLOG_BUCKET_MS);
}

/** First bucket still inside the horizon at `now`. */
export function oldestLiveBucket(now: number): number {
  return backlogBucket(now - BACKLOG_HORIZON_MS);
}

/**
 * Events in flight: per bucket within the horizon, `sent − resolved` (a bucket is never
 * negative: a write can be flushed before its send is, from another isolate), summed.
 */
export function backlogGauge(rows: readonly BacklogDelta[], now: number): number {
  const oldest = oldestLiveBucket(now);
  const byBucket = new Map<number, number>();
  for (const r of rows) {
    if (r.bucket < oldest) continue;
    byBucket.set(r.bucket, (byBucket.get(r.bucket) ?? 0) + r.sent - r.resolved);
  }
  let total = 0;
  for (const v of byBucket.values()) total += Math.max(0, v);
  return total;
}

/** Whether a delta is well-formed (the METRICS object stores only these). */
export function validBacklogDelta(d: unknown): d is BacklogDelta {
  if (typeof d !== 'object' || d === null) return false;
  const { bucket, sent, resolved } = d as Record<string, unknown>;
  return (
    Number.isSafeInteger(bucket) &&
    Number.isSafeInteger(sent) &&
    Number.isSafeInteger(resolved) &&
    (sent as number) >= 0 &&
    (resolved as number) >= 0
  );
}
