/**
 * The audit archive: the long-term, immutable record of every audit event, in the R2 bucket
 * AUDIT_ARCHIVE. D1 keeps only the queryable hot window (AUDIT_HOT_DAYS); the archive keeps
 * AUDIT_RETENTION_DAYS and has no size wall.
 *
 * Layout (hive-style, so DuckDB/Spark/Athena read it with partition pruning):
 *
 *   audit/v1/date=YYYY-MM-DD/hour=HH/<min-ts>-<content-id>.ndjson.gz
 *
 * Each object is gzip-compressed NDJSON: one event per line, as validated and scrubbed,
 * sorted by (ts, decision_id). A consumer batch becomes one object per decision hour it spans
 * (normally one). `<min-ts>` is the first event's time (13-digit epoch ms, so a listing is in
 * time order) and `<content-id>` a SHA-256 over the sorted decision ids: writing the same events
 * again produces the same key, so a retried batch overwrites its own object with the same
 * content. A redelivered event that lands in a *different* object is a duplicate that every
 * reader removes by decision_id (the export does; see docs/audit.md for DuckDB).
 */
import type { Env } from '../env';
import { sha256Hex } from '../hash';
import type { AnyAuditEvent } from './event';
import type { AuditVia } from './row';

export const ARCHIVE_ROOT = 'audit/v1/';

export interface AuditArchive {
  /**
   * Writes the events as immutable objects and returns how many distinct events were written.
   * Throws if any object could not be written (the caller retries the whole batch).
   */
  put(events: readonly AnyAuditEvent[], via: AuditVia | 'backfill'): Promise<number>;
}

/** The partition prefix of a decision time. */
export function partitionOf(tsMs: number): string {
  const iso = new Date(tsMs).toISOString();
  return `${ARCHIVE_ROOT}date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

/** Events in (ts, decision_id) order: the archive's, and the export's, total order. */
export function compareEvents(
  a: { ts: number; id: string },
  b: { ts: number; id: string },
): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const KEY_RE = /\/(\d{13})-[0-9a-f]{32}\.ndjson\.gz$/;

/** The earliest decision time in an object, from its key; undefined for a foreign key. */
export function minTsOfKey(key: string): number | undefined {
  const m = KEY_RE.exec(key);
  return m ? Number(m[1]) : undefined;
}

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzip(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body.pipeThrough(new DecompressionStream('gzip'))).text();
}

/** The archive on an R2 bucket. */
export class R2AuditArchive implements AuditArchive {
  constructor(private readonly bucket: R2Bucket) {}

  async put(events: readonly AnyAuditEvent[], via: AuditVia | 'backfill'): Promise<number> {
    const byPartition = new Map<string, Map<string, { ts: number; event: AnyAuditEvent }>>();
    for (const event of events) {
      const ts = Date.parse(event.ts);
      const prefix = partitionOf(ts);
      let part = byPartition.get(prefix);
      if (!part) {
        part = new Map();
        byPartition.set(prefix, part);
      }
      if (!part.has(event.decision_id)) part.set(event.decision_id, { ts, event });
    }
    let written = 0;
    await Promise.all(
      [...byPartition].map(async ([prefix, part]) => {
        const sorted = [...part.values()].sort((a, b) =>
          compareEvents(
            { ts: a.ts, id: a.event.decision_id },
            { ts: b.ts, id: b.event.decision_id },
          ),
        );
        const first = sorted[0]!;
        const last = sorted[sorted.length - 1]!;
        const contentId = (await sha256Hex(sorted.map((s) => s.event.decision_id).join(','))).slice(
          0,
          32,
        );
        const key = `${prefix}${String(first.ts).padStart(13, '0')}-${contentId}.ndjson.gz`;
        const body = await gzip(sorted.map((s) => JSON.stringify(s.event)).join('\n') + '\n');
        await this.bucket.put(key, body, {
          httpMetadata: { contentType: 'application/gzip' },
          customMetadata: {
            format: 'ndjson',
            events: String(sorted.length),
            min_ts: first.event.ts,
            max_ts: last.event.ts,
            via,
          },
        });
        written += sorted.length;
      }),
    );
    return written;
  }
}

const archives = new WeakMap<R2Bucket, R2AuditArchive>();

/** The archive of this Worker's AUDIT_ARCHIVE binding (undefined if unbound). */
export function archiveFor(env: Pick<Env, 'AUDIT_ARCHIVE'>): AuditArchive | undefined {
  const bucket = env.AUDIT_ARCHIVE as R2Bucket | undefined;
  if (!bucket) return undefined;
  let a = archives.get(bucket);
  if (!a) {
    a = new R2AuditArchive(bucket);
    archives.set(bucket, a);
  }
  return a;
}
