/**
 * Audit retention, run by the daily cron trigger:
 *
 * 1. D1 is the hot window: rows older than AUDIT_HOT_DAYS leave it. A row whose event is not in
 *    the archive yet (`archived = 0`: written by a fallback or replay while R2 failed, or before
 *    the archive existed) is archived first; rows are only ever deleted once archived. Deletes
 *    run in bounded chunks (each one short transaction, so D1 is never locked for long).
 * 2. The R2 archive keeps AUDIT_RETENTION_DAYS: whole `date=` prefixes older than that are
 *    deleted (also documented as an R2 lifecycle rule, docs/audit.md, which does the same in
 *    production without the Worker).
 * 3. Replayed dead letters leave with the hot window; pending ones are kept until replayed.
 *
 * 0 days keeps everything (in D1, or in the archive). A larger backlog than one run's bounds is
 * finished by the next runs (`truncated`).
 */
import { ARCHIVE_ROOT, type AuditArchive } from './archive';
import { rowToEvent } from './row';
import {
  deleteExpiredChunk,
  deleteReplayedDeadLetters,
  markArchived,
  unarchivedBefore,
} from './store';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  hotDays: number;
  retentionDays: number;
  now: number;
  /** Rows per DELETE / per archive object. */
  chunkSize?: number;
  /** Chunks per run, per step; a larger backlog is finished by the next runs. */
  maxChunks?: number;
}

export interface RetentionResult {
  cutoff: number | null;
  /** Rows archived by this run before they were trimmed. */
  archived: number;
  deleted: number;
  deadLettersDeleted: number;
  chunks: number;
  /** Archive objects deleted past AUDIT_RETENTION_DAYS. */
  objectsDeleted: number;
  /** True if a bound stopped the run before everything due was done. */
  truncated: boolean;
}

export async function runRetention(
  db: D1Database,
  archive: { archive?: AuditArchive | undefined; bucket?: R2Bucket | undefined },
  opts: RetentionOptions,
): Promise<RetentionResult> {
  const chunkSize = opts.chunkSize ?? 1000;
  const maxChunks = opts.maxChunks ?? 500;
  const result: RetentionResult = {
    cutoff: null,
    archived: 0,
    deleted: 0,
    deadLettersDeleted: 0,
    chunks: 0,
    objectsDeleted: 0,
    truncated: false,
  };

  if (opts.hotDays > 0) {
    const cutoff = opts.now - opts.hotDays * DAY_MS;
    result.cutoff = cutoff;
    // Archive what is about to leave D1 and is not in the archive yet.
    for (let i = 0; ; i++) {
      if (i >= maxChunks) {
        result.truncated = true;
        break;
      }
      const rows = await unarchivedBefore(db, cutoff, chunkSize);
      if (rows.length === 0) break;
      if (!archive.archive) break; // nowhere to archive: those rows stay in D1
      await archive.archive.put(rows.map(rowToEvent), 'backfill');
      result.archived += await markArchived(
        db,
        rows.map((r) => r.decision_id),
      );
      if (rows.length < chunkSize) break;
    }
    for (;;) {
      if (result.chunks >= maxChunks) {
        result.truncated = true;
        break;
      }
      const n = await deleteExpiredChunk(db, cutoff, chunkSize);
      result.chunks++;
      result.deleted += n;
      if (n < chunkSize) break;
    }
    result.deadLettersDeleted = await deleteReplayedDeadLetters(db, cutoff);
  }

  if (opts.retentionDays > 0 && archive.bucket) {
    const oldestKept = new Date(opts.now - opts.retentionDays * DAY_MS).toISOString().slice(0, 10);
    const r = await deleteArchiveBefore(archive.bucket, oldestKept, maxChunks);
    result.objectsDeleted = r.deleted;
    result.truncated ||= r.truncated;
  }
  return result;
}

/**
 * Deletes every archive object under a `date=` prefix earlier than `oldestKept` (YYYY-MM-DD),
 * at most `maxCalls` list/delete rounds of 1,000 keys.
 */
export async function deleteArchiveBefore(
  bucket: R2Bucket,
  oldestKept: string,
  maxCalls: number,
): Promise<{ deleted: number; truncated: boolean }> {
  let deleted = 0;
  let calls = 0;
  let cursor: string | undefined;
  const expired: string[] = [];
  do {
    const page = await bucket.list({ prefix: ARCHIVE_ROOT, delimiter: '/', cursor });
    for (const p of page.delimitedPrefixes) {
      const date = /^audit\/v1\/date=(\d{4}-\d\d-\d\d)\/$/.exec(p)?.[1];
      if (date !== undefined && date < oldestKept) expired.push(p);
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  for (const prefix of expired) {
    for (;;) {
      if (calls++ >= maxCalls) return { deleted, truncated: true };
      const page = await bucket.list({ prefix, limit: 1000 });
      if (page.objects.length === 0) break;
      await bucket.delete(page.objects.map((o) => o.key));
      deleted += page.objects.length;
      if (!page.truncated) break;
    }
  }
  return { deleted, truncated: false };
}
