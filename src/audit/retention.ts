/**
 * Audit retention, run by the daily cron trigger: rows older than AUDIT_RETENTION_DAYS are
 * deleted in bounded chunks (each one short transaction, so D1 is never locked for long), and
 * replayed dead letters older than that go too. Pending dead letters are kept until replayed.
 * 0 days keeps everything.
 */
import { deleteExpiredChunk, deleteReplayedDeadLetters } from './store';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  days: number;
  now: number;
  /** Rows per DELETE. */
  chunkSize?: number;
  /** Chunks per run; a larger backlog is finished by the next runs. */
  maxChunks?: number;
}

export interface RetentionResult {
  cutoff: number | null;
  deleted: number;
  deadLettersDeleted: number;
  chunks: number;
  /** True if maxChunks stopped the run before every expired row was gone. */
  truncated: boolean;
}

export async function runRetention(
  db: D1Database,
  opts: RetentionOptions,
): Promise<RetentionResult> {
  if (opts.days <= 0) {
    return { cutoff: null, deleted: 0, deadLettersDeleted: 0, chunks: 0, truncated: false };
  }
  const chunkSize = opts.chunkSize ?? 1000;
  const maxChunks = opts.maxChunks ?? 500;
  const cutoff = opts.now - opts.days * DAY_MS;
  let deleted = 0;
  let chunks = 0;
  let truncated = false;
  for (;;) {
    if (chunks >= maxChunks) {
      truncated = true;
      break;
    }
    const n = await deleteExpiredChunk(db, cutoff, chunkSize);
    chunks++;
    deleted += n;
    if (n < chunkSize) break;
  }
  const deadLettersDeleted = await deleteReplayedDeadLetters(db, cutoff);
  return { cutoff, deleted, deadLettersDeleted, chunks, truncated };
}
