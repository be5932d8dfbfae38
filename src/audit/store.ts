/**
 * D1 access for the audit log (tables in migrations/0002_audit.sql). Every write is idempotent:
 * `audit_log` is keyed by decision_id and `audit_dead_letters` by decision_id (or message id), so a
 * redelivered message, a producer fallback racing the queue, or a second replay never duplicates.
 */
import {
  EVENT_COLUMN_NAMES as EVENT_COLUMNS,
  type AuditRow,
  type AuditVia,
  type StoredAuditRow,
} from './row';

const STORED_COLUMNS = [...EVENT_COLUMNS, 'via', 'written_at', 'archived'] as const;

/**
 * The rows travel as ONE JSON parameter and `json_each` unpacks them: a multi-row `VALUES` list
 * would hit D1's limit of 100 bound parameters per statement at 6 rows. RETURNING gives the
 * decision time of each row that was new, so counters can attribute it (backlog ledger).
 */
const INSERT_ROWS_SQL = `INSERT INTO audit_log (${STORED_COLUMNS.join(', ')})
SELECT ${EVENT_COLUMNS.map((_, i) => `value ->> ${i}`).join(', ')}, ?2, ?3, ?4
FROM json_each(?1) WHERE true
ON CONFLICT (decision_id) DO NOTHING
RETURNING ts`;

/** The reason index is filled from the stored rows, so it always agrees with audit_log. */
const INSERT_REASONS_SQL = `INSERT INTO audit_log_reasons (reason, ts, decision_id)
SELECT r.value, a.ts, a.decision_id
FROM json_each(?1) AS e
JOIN audit_log AS a ON a.decision_id = (e.value ->> 0)
JOIN json_each(a.reasons) AS r
WHERE true
ON CONFLICT DO NOTHING`;

/** A row written before its batch reached the archive is marked archived once it has. */
const MARK_ARCHIVED_SQL = `UPDATE audit_log SET archived = 1
WHERE archived = 0 AND decision_id IN (SELECT value ->> 0 FROM json_each(?1))`;

/**
 * Largest JSON payload per statement, in UTF-8 bytes. D1 refuses statements over 100 KB
 * (`SQLITE_TOOBIG`); the payload is the statement's bulk, so rows are packed into chunks under
 * this bound with room for the SQL text. One row is always accepted: a row's size is bounded by
 * the event schema (src/audit/event.ts), well under D1's 2 MB row limit.
 */
export const MAX_STATEMENT_PAYLOAD_BYTES = 90_000;

/** UTF-8 length of a string without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 2 bytes below U+0800, 4 per surrogate pair (2 + 2), 3 for the rest of the BMP.
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return n;
}

/** Rows cut into JSON payloads of at most `maxBytes` (a larger single row is its own chunk). */
export function payloadChunks(
  rows: readonly AuditRow[],
  maxBytes = MAX_STATEMENT_PAYLOAD_BYTES,
): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const r of rows) {
    const part = JSON.stringify(EVENT_COLUMNS.map((c) => r[c]));
    const bytes = utf8Length(part) + 1;
    if (parts.length > 0 && size + bytes > maxBytes) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      size = 2;
    }
    parts.push(part);
    size += bytes;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}

export interface WriteOptions {
  via: AuditVia;
  now: number;
  /** Whether the rows' events are in the R2 archive already. */
  archived: boolean;
}

/**
 * Inserts rows idempotently in one transaction (audit_log + its reason index), in size-bounded
 * statements. Returns the decision time (`ts`) of every row that was new; duplicates return
 * nothing. Throws if D1 rejects a statement — callers isolate the failing row (consumer.ts).
 */
export async function insertAuditRows(
  db: D1Database,
  rows: readonly AuditRow[],
  opts: WriteOptions,
): Promise<number[]> {
  if (rows.length === 0) return [];
  const stmts: D1PreparedStatement[] = [];
  for (const payload of payloadChunks(rows)) {
    stmts.push(
      db.prepare(INSERT_ROWS_SQL).bind(payload, opts.via, opts.now, opts.archived ? 1 : 0),
      db.prepare(INSERT_REASONS_SQL).bind(payload),
    );
    if (opts.archived) stmts.push(db.prepare(MARK_ARCHIVED_SQL).bind(payload));
  }
  const results = await db.batch<{ ts: number }>(stmts);
  const step = opts.archived ? 3 : 2;
  const inserted: number[] = [];
  for (let i = 0; i < results.length; i += step)
    for (const r of results[i]?.results ?? []) inserted.push(r.ts);
  return inserted;
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface AuditFilter {
  keyId?: string | undefined;
  allowed?: boolean | undefined;
  outcome?: string | undefined;
  reason?: string | undefined;
  /** Inclusive lower bound, epoch ms. */
  since?: number | undefined;
  /** Exclusive upper bound, epoch ms. */
  until?: number | undefined;
}

export interface Keyset {
  ts: number;
  id: string;
}

const SELECT_STORED = STORED_COLUMNS.map((c) => `a.${c}`).join(', ');

/**
 * One page of the log, newest first, ordered by (ts, decision_id) descending — a total order, so
 * keyset pagination returns every row exactly once. With a reason filter the query is driven by
 * the `audit_log_reasons` primary key (reason, ts, decision_id); otherwise by
 * `audit_log_key_ts` (with key_id) or `audit_log_ts`.
 */
export function buildAuditQuery(
  filter: AuditFilter,
  page: { limit: number; after?: Keyset | undefined },
): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  // The table whose (ts, decision_id) drives order and keyset.
  const k = filter.reason !== undefined ? 'r' : 'a';
  let from = 'audit_log AS a';
  if (filter.reason !== undefined) {
    from = 'audit_log_reasons AS r JOIN audit_log AS a ON a.decision_id = r.decision_id';
    where.push('r.reason = ?');
    params.push(filter.reason);
  }
  if (filter.keyId !== undefined) {
    where.push('a.api_key_id = ?');
    params.push(filter.keyId);
  }
  if (filter.allowed !== undefined) {
    where.push('a.allowed = ?');
    params.push(filter.allowed ? 1 : 0);
  }
  if (filter.outcome !== undefined) {
    where.push('a.outcome = ?');
    params.push(filter.outcome);
  }
  if (filter.since !== undefined) {
    where.push(`${k}.ts >= ?`);
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push(`${k}.ts < ?`);
    params.push(filter.until);
  }
  if (page.after) {
    where.push(`(${k}.ts, ${k}.decision_id) < (?, ?)`);
    params.push(page.after.ts, page.after.id);
  }
  const sql =
    `SELECT ${SELECT_STORED} FROM ${from}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${k}.ts DESC, ${k}.decision_id DESC LIMIT ?`;
  params.push(page.limit);
  return { sql, params };
}

export async function listAudit(
  db: D1Database,
  filter: AuditFilter,
  page: { limit: number; after?: Keyset | undefined },
): Promise<StoredAuditRow[]> {
  const { sql, params } = buildAuditQuery(filter, page);
  const { results } = await db
    .prepare(sql)
    .bind(...params)
    .all<StoredAuditRow>();
  return results;
}

export async function getAudit(db: D1Database, decisionId: string): Promise<StoredAuditRow | null> {
  return db
    .prepare(`SELECT ${SELECT_STORED} FROM audit_log AS a WHERE a.decision_id = ?`)
    .bind(decisionId)
    .first<StoredAuditRow>();
}

// ---------------------------------------------------------------------------------------------
// Dead letters

/** Why an event was dead-lettered; the migration's `CHECK (reason IN (…))` spells the same list. */
export const DEAD_LETTER_REASONS = ['invalid_event', 'write_failed', 'retries_exhausted'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface DeadLetterInput {
  id: string;
  decision_id: string | null;
  message_id: string;
  queue: string;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  payload: string | null;
  dead_at: number;
}

export interface DeadLetterRow extends DeadLetterInput {
  replayed_at: number | null;
  replay_attempts: number;
  replay_error: string | null;
}

const DEAD_LETTER_COLUMNS =
  'id, decision_id, message_id, queue, reason, error, attempts, payload, dead_at, replayed_at, replay_attempts, replay_error';

/**
 * Keeps a dead letter. Returns true if this is a new loss: false when the id is already kept (a
 * redelivered dead letter) or the event is in audit_log after all (nothing was lost).
 */
export async function storeDeadLetter(db: D1Database, d: DeadLetterInput): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO audit_dead_letters (id, decision_id, message_id, queue, reason, error, attempts, payload, dead_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
       WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE decision_id = ?2)
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(
      d.id,
      d.decision_id,
      d.message_id,
      d.queue,
      d.reason,
      d.error,
      d.attempts,
      d.payload,
      d.dead_at,
    )
    .run();
  return result.meta.changes > 0;
}

export type DeadLetterStatus = 'pending' | 'replayed' | 'all';

/** Dead letters newest first, keyset-paginated on (dead_at, id). */
export async function listDeadLetters(
  db: D1Database,
  opts: { status: DeadLetterStatus; limit: number; after?: Keyset | undefined },
): Promise<DeadLetterRow[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (opts.status === 'pending') where.push('replayed_at IS NULL');
  if (opts.status === 'replayed') where.push('replayed_at IS NOT NULL');
  if (opts.after) {
    where.push('(dead_at, id) < (?, ?)');
    params.push(opts.after.ts, opts.after.id);
  }
  params.push(opts.limit);
  const { results } = await db
    .prepare(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM audit_dead_letters` +
        (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
        ' ORDER BY dead_at DESC, id DESC LIMIT ?',
    )
    .bind(...params)
    .all<DeadLetterRow>();
  return results;
}

/** Pending dead letters to replay: the given ids, or the oldest `limit`. */
export async function pendingDeadLetters(
  db: D1Database,
  opts: { ids?: readonly string[] | undefined; limit: number },
): Promise<DeadLetterRow[]> {
  if (opts.ids) {
    const { results } = await db
      .prepare(
        `SELECT ${DEAD_LETTER_COLUMNS} FROM audit_dead_letters
         WHERE replayed_at IS NULL AND id IN (SELECT value FROM json_each(?1))
         ORDER BY dead_at, id LIMIT ?2`,
      )
      .bind(JSON.stringify(opts.ids), opts.limit)
      .all<DeadLetterRow>();
    return results;
  }
  const { results } = await db
    .prepare(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM audit_dead_letters
       WHERE replayed_at IS NULL ORDER BY dead_at, id LIMIT ?1`,
    )
    .bind(opts.limit)
    .all<DeadLetterRow>();
  return results;
}

export async function countPendingDeadLetters(db: D1Database): Promise<number> {
  const row = await db
    .prepare('SELECT count(*) AS n FROM audit_dead_letters WHERE replayed_at IS NULL')
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Marks dead letters replayed (their event is in audit_log now). */
export async function markReplayed(
  db: D1Database,
  ids: readonly string[],
  now: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .prepare(
      `UPDATE audit_dead_letters
       SET replayed_at = ?2, replay_attempts = replay_attempts + 1, replay_error = NULL
       WHERE id IN (SELECT value FROM json_each(?1)) AND replayed_at IS NULL`,
    )
    .bind(JSON.stringify(ids), now)
    .run();
  // Only rows still pending change: a concurrent replay of the same rows counts them once.
  return result.meta.changes ?? 0;
}

/** Records a failed replay attempt; the dead letter stays pending. */
export async function markReplayFailed(db: D1Database, id: string, error: string): Promise<void> {
  await db
    .prepare(
      `UPDATE audit_dead_letters SET replay_attempts = replay_attempts + 1, replay_error = ?2
       WHERE id = ?1`,
    )
    .bind(id, error)
    .run();
}

// ---------------------------------------------------------------------------------------------
// Retention

/**
 * Deletes up to `chunk` of the oldest rows older than `cutoff` (epoch ms), with their reason index
 * entries, in one transaction. Both statements pick the same chunk: the first touches only the
 * reason index, so the subquery over audit_log sees the same rows twice.
 */
export async function deleteExpiredChunk(
  db: D1Database,
  cutoff: number,
  chunk: number,
): Promise<number> {
  // Only archived rows leave the hot window (retention.ts archives the others first).
  const oldest = `SELECT decision_id, ts, reasons FROM audit_log WHERE ts < ?1 AND archived = 1 ORDER BY ts, decision_id LIMIT ?2`;
  const [, deleted] = await db.batch([
    db
      .prepare(
        `DELETE FROM audit_log_reasons WHERE (reason, ts, decision_id) IN (
           SELECT r.value, o.ts, o.decision_id FROM (${oldest}) AS o JOIN json_each(o.reasons) AS r)`,
      )
      .bind(cutoff, chunk),
    db
      .prepare(`DELETE FROM audit_log WHERE decision_id IN (SELECT decision_id FROM (${oldest}))`)
      .bind(cutoff, chunk),
  ]);
  return deleted?.meta.changes ?? 0;
}

/** Rows older than `cutoff` whose event is not in the archive yet, oldest first. */
export async function unarchivedBefore(
  db: D1Database,
  cutoff: number,
  limit: number,
): Promise<StoredAuditRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${SELECT_STORED} FROM audit_log AS a WHERE a.archived = 0 AND a.ts < ?1 ORDER BY a.ts LIMIT ?2`,
    )
    .bind(cutoff, limit)
    .all<StoredAuditRow>();
  return results;
}

export async function markArchived(db: D1Database, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .prepare(
      'UPDATE audit_log SET archived = 1 WHERE archived = 0 AND decision_id IN (SELECT value FROM json_each(?1))',
    )
    .bind(JSON.stringify(ids))
    .run();
  return result.meta.changes;
}

/** Deletes replayed dead letters older than `cutoff`; pending ones are kept until replayed. */
export async function deleteReplayedDeadLetters(db: D1Database, cutoff: number): Promise<number> {
  const result = await db
    .prepare('DELETE FROM audit_dead_letters WHERE replayed_at IS NOT NULL AND replayed_at < ?')
    .bind(cutoff)
    .run();
  return result.meta.changes;
}
