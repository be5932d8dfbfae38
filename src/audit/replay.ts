/**
 * Replay of dead letters: pending events are validated again and written straight to audit_log
 * with the same idempotent insert as the consumer (so a replay of something already written, or
 * two replays racing, never duplicates). A dead letter is marked replayed only once its event is
 * in audit_log; one that still fails stays pending with the error.
 *
 * Counters: a replayed event re-enters the logger, so it counts in logs_queued_total again and in
 * logs_written_total when its row is new; its earlier logs_dropped_total stays (counters only
 * grow), which keeps queued - written - dropped equal to the events in flight.
 */
import { metrics } from '../metrics/recorder';
import type { AuditArchive } from './archive';
import { describeError } from './errors';
import type { AnyAuditEvent } from './event';
import { toRow, type AuditRow } from './row';
import {
  countPendingDeadLetters,
  insertAuditRows,
  markReplayed,
  markReplayFailed,
  pendingDeadLetters,
  type DeadLetterRow,
} from './store';
import { parseAuditEvent } from './validate';

export interface ReplayResult {
  /** Dead letters now marked replayed. */
  replayed: number;
  /** Of those, rows that were new in audit_log (the rest were already there). */
  inserted: number;
  failed: { id: string; error: string }[];
  /** Pending dead letters left after this call. */
  remaining: number;
}

export async function replayDeadLetters(
  db: D1Database,
  opts: {
    ids?: readonly string[] | undefined;
    limit: number;
    now?: number;
    /** Replays reach the archive too; if it fails, rows stay unarchived for the cron. */
    archive?: AuditArchive | undefined;
  },
): Promise<ReplayResult> {
  const now = opts.now ?? Date.now();
  const pending = await pendingDeadLetters(db, opts);
  const failed: ReplayResult['failed'] = [];
  const ready: { dl: DeadLetterRow; row: AuditRow; event: AnyAuditEvent }[] = [];

  for (const dl of pending) {
    const error = unreplayable(dl);
    if (error !== undefined) {
      failed.push({ id: dl.id, error });
      continue;
    }
    const parsed = parseAuditEvent(JSON.parse(dl.payload ?? 'null') as unknown);
    if (!parsed.ok) {
      failed.push({ id: dl.id, error: parsed.error });
      continue;
    }
    ready.push({ dl, row: toRow(parsed.event), event: parsed.event });
  }

  let archived = false;
  if (opts.archive && ready.length > 0) {
    try {
      await opts.archive.put(
        ready.map((r) => r.event),
        'replay',
      );
      archived = true;
    } catch {
      // The rows go to D1 unarchived; the retention cron archives them before trimming.
    }
  }

  let inserted = 0;
  const done: string[] = [];
  const write = { via: 'replay', now, archived } as const;
  try {
    inserted = (
      await insertAuditRows(
        db,
        ready.map((r) => r.row),
        write,
      )
    ).length;
    done.push(...ready.map((r) => r.dl.id));
  } catch {
    // Isolate the failing rows, as the consumer does.
    for (const { dl, row } of ready) {
      try {
        inserted += (await insertAuditRows(db, [row], write)).length;
        done.push(dl.id);
      } catch (err) {
        failed.push({ id: dl.id, error: describeError(err) });
      }
    }
  }

  const moved = await markReplayed(db, done, now);
  for (const f of failed) await markReplayFailed(db, f.id, f.error);
  // Counted once per dead letter even when two replays race (see markReplayed).
  if (moved > 0) metrics.inc('logs_queued_total', {}, moved);
  if (inserted > 0) metrics.inc('logs_written_total', {}, inserted);

  return {
    replayed: done.length,
    inserted,
    failed,
    remaining: await countPendingDeadLetters(db),
  };
}

function unreplayable(dl: DeadLetterRow): string | undefined {
  if (dl.payload === null) return 'the dead letter kept no payload (too large or not JSON)';
  try {
    JSON.parse(dl.payload);
  } catch {
    return 'the stored payload is not JSON';
  }
  return undefined;
}
