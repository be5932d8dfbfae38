/**
 * The audit row: how an event is stored in `audit_log` (migrations/0002_audit.sql, rebuilt by
 * 0003) and how a stored row is shown by the admin API.
 *
 * `EVENT_COLUMNS` is the one mapping between event fields and columns; store.ts builds its SQL
 * from it, so adding an event field is one entry here (plus the schema field in event.ts and
 * the column in a migration).
 *
 * `sanitizeEvent` is the last guard against personal data: every string a client chooses —
 * model, operation, request id, metadata keys and values — goes through the shared identifier
 * scrubber (src/pii/identifier.ts: the detectors plus any run of ≥ 9 digits outside a UUID or
 * hex string). The producer applies it before an event enters the queue, and `toRow` again
 * before any write, so an older or replayed event is covered as well.
 */
import { scrubIdentifier } from '../pii/identifier';
import {
  MAX_IDENTIFIER_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
  type AnyAuditEvent,
  type AuditEventV2,
} from './event';

/**
 * How a row reached the log. The migrations' `CHECK (via IN (…))` spell the same list
 * (test/node/storage-docs.test.ts keeps them equal).
 */
export const AUDIT_VIAS = ['queue', 'fallback', 'replay'] as const;
export type AuditVia = (typeof AUDIT_VIAS)[number];

type SqlValue = string | number | null;

/** One audit_log column: the value stored for an event, and the field(s) it restores. */
interface Column {
  put(e: AnyAuditEvent): SqlValue;
  get(v: SqlValue): Partial<AuditEventV2> | { v: 1 | 2 };
}

const text = <K extends keyof AuditEventV2>(k: K): Column => ({
  put: (e) => (e as AuditEventV2)[k] as SqlValue,
  get: (v) => ({ [k]: v }) as Partial<AuditEventV2>,
});
const json = <K extends keyof AuditEventV2>(k: K): Column => ({
  put: (e) => {
    const x = (e as AuditEventV2)[k];
    return x === null || x === undefined ? null : JSON.stringify(x);
  },
  get: (v) =>
    ({ [k]: v === null ? null : (JSON.parse(String(v)) as unknown) }) as Partial<AuditEventV2>,
});
/** A field that may be absent from the event: NULL in the column. */
const optional = <K extends keyof AuditEventV2>(k: K): Column => ({
  put: (e) => ((e as Partial<AuditEventV2>)[k] ?? null) as SqlValue,
  get: (v) => (v === null ? {} : ({ [k]: v } as Partial<AuditEventV2>)),
});

/** A structured field that may be absent from the event: NULL in the column. */
const optionalJson = <K extends keyof AuditEventV2>(k: K): Column => ({
  put: json(k).put,
  get: (v) =>
    v === null ? {} : ({ [k]: JSON.parse(String(v)) as unknown } as Partial<AuditEventV2>),
});

/**
 * Event field → audit_log column, in column order. Bookkeeping columns (`via`, `written_at`,
 * `archived`) are not event fields and are filled by store.ts.
 */
export const EVENT_COLUMNS = {
  decision_id: text('decision_id'),
  v: { put: (e) => e.v, get: (v) => ({ v: v === 1 ? 1 : 2 }) },
  ts: { put: (e) => Date.parse(e.ts), get: (v) => ({ ts: new Date(Number(v)).toISOString() }) },
  request_id: text('request_id'),
  api_key_id: text('api_key_id'),
  model: text('model'),
  operation: text('operation'),
  allowed: { put: (e) => (e.allowed ? 1 : 0), get: (v) => ({ allowed: v === 1 }) },
  outcome: text('outcome'),
  reasons: json('reasons'),
  finding_counts: json('finding_counts'),
  policy_version: text('policy_version'),
  input_chars: text('input_chars'),
  input_hmac: optional('input_hmac'),
  input_hmac_key_id: optional('input_hmac_key_id'),
  latency_ms: text('latency_ms'),
  metadata: json('metadata'),
  direction: optional('direction'),
  input_decision_id: optional('input_decision_id'),
  skipped_parts: optional('skipped_parts'),
  trace_id: optional('trace_id'),
  kind: optional('kind'),
  usage: optionalJson('usage'),
} as const satisfies Record<string, Column>;

export type EventColumn = keyof typeof EVENT_COLUMNS;
export const EVENT_COLUMN_NAMES = Object.keys(EVENT_COLUMNS) as EventColumn[];

/** A row ready to insert: one value per event column. */
export type AuditRow = Record<EventColumn, SqlValue> & { decision_id: string; ts: number };

/** A row as stored (adds the bookkeeping columns). */
export type StoredAuditRow = AuditRow & { via: AuditVia; written_at: number; archived: number };

/** An audit record as the admin API returns it: the event as written, plus how and when. */
export type AuditRecord = Omit<AuditEventV2, 'v'> & {
  /** The event version the row was written from. */
  v: 1 | 2;
  via: AuditVia;
  /** ISO 8601 time the row was written. */
  written_at: string;
};

function bounded(text: string, max = MAX_IDENTIFIER_LENGTH): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/**
 * A scrubbed identifier, cut back to what the event schema accepts: redaction can lengthen a
 * string (`923 609 016` → `[NO_ORGANISASJONSNUMMER]`), and an accepted request must never
 * become an invalid, unstorable audit event.
 */
export function scrubbed(text: string, max = MAX_IDENTIFIER_LENGTH): string {
  return bounded(scrubIdentifierMemo(text), max);
}

/**
 * Distinct identifiers remembered per isolate, per generation (at most twice this in all), and
 * the longest one remembered.
 */
export const SCRUB_MEMO_ENTRIES = 2048;
const SCRUB_MEMO_MAX_LENGTH = 256;
let scrubMemo = new Map<string, string>();
let scrubMemoOld = new Map<string, string>();

/**
 * `scrubIdentifier`, remembered per isolate. Scrubbing runs every detector, with a fixed cost per
 * call that dominates for short strings, and each event is scrubbed up to three times (producer,
 * consumer, `toRow`) while its identifiers repeat (a handful of models and operations per
 * deployment). Bounded by two generations: when the young one is full it becomes the old one and
 * the previous old one is dropped; a hit in the old generation moves up. A hit costs one lookup
 * (a least-recently-used list costs a delete and an insert per hit, three times per event). The
 * result depends on the text alone.
 */
function scrubIdentifierMemo(text: string): string {
  if (text.length > SCRUB_MEMO_MAX_LENGTH) return scrubIdentifier(text);
  const hit = scrubMemo.get(text);
  if (hit !== undefined) return hit;
  const clean = scrubMemoOld.get(text) ?? scrubIdentifier(text);
  scrubMemo.set(text, clean);
  if (scrubMemo.size >= SCRUB_MEMO_ENTRIES) {
    scrubMemoOld = scrubMemo;
    scrubMemo = new Map();
  }
  return clean;
}

/**
 * Records that `id` needs no scrubbing, so its audit event skips the scan in the producer and the
 * consumer (a fresh request id misses the memo by nature, and its scan was the largest item of a
 * 429's audit path). For request ids only: one the request-id middleware accepted after
 * `isCleanIdentifier` (the same detectors and digit rule found nothing, so scrubbing returns it
 * unchanged), or one it generated itself — a random UUID is no one's data, and kept as is the
 * audit row matches the `X-Request-Id` the client saw.
 */
export function rememberCleanRequestId(id: string): void {
  if (id.length > SCRUB_MEMO_MAX_LENGTH || scrubMemo.has(id)) return;
  scrubMemo.set(id, id);
  if (scrubMemo.size >= SCRUB_MEMO_ENTRIES) {
    scrubMemoOld = scrubMemo;
    scrubMemo = new Map();
  }
}

function scrubMetadata(metadata: AnyAuditEvent['metadata']): AnyAuditEvent['metadata'] {
  if (metadata === null) return null;
  const entries: [string, string | number | boolean][] = [];
  // A Set, not `k in out`: keys such as `toString` or `constructor` are data here, not members.
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(metadata)) {
    const k = scrubbed(key);
    // Two keys that scrub to the same text keep the first value (both were redacted anyway).
    if (seen.has(k)) continue;
    seen.add(k);
    entries.push([
      k,
      typeof value === 'string'
        ? scrubbed(value, MAX_METADATA_VALUE_LENGTH)
        : typeof value === 'number'
          ? scrubNumber(value)
          : value,
    ]);
  }
  // fromEntries defines own properties, so even `__proto__` stays an ordinary key.
  return Object.fromEntries(entries);
}

/**
 * The event with every client-chosen string scrubbed, and a v1 event's unkeyed input_sha256
 * dropped (it was reversible; docs/audit.md). Idempotent: `[TYPE]` labels are never re-detected.
 */
export function sanitizeEvent<E extends AnyAuditEvent>(event: E): E {
  const out = {
    ...event,
    request_id: scrubbed(event.request_id),
    model: scrubbed(event.model),
    operation: scrubbed(event.operation),
    metadata: scrubMetadata(event.metadata),
  };
  if (out.v === 1) delete out.input_sha256;
  return out;
}

/**
 * A metadata number as stored. A national id or card number sent as a JSON number
 * (`{"ref": 15038512363}`) is still one, so a number whose text the identifier rules flag (the
 * detectors, or nine or more digits: src/pii/identifier.ts) is stored as that redacted text
 * (`[NO_FODSELSNUMMER]`, `[NUMBER]`); every other number stays a number.
 */
function scrubNumber(n: number): number | string {
  const text = String(n);
  const clean = scrubIdentifierMemo(text);
  return clean === text ? n : clean;
}

/** The stored form of a validated event. */
export function toRow(raw: AnyAuditEvent): AuditRow {
  return rowOf(sanitizeEvent(raw));
}

/**
 * The stored form of an event `sanitizeEvent` has just returned (the consumer keeps both the
 * sanitized event and its row): the same as `toRow` without scrubbing everything a second time.
 */
export function rowOf(event: AnyAuditEvent): AuditRow {
  const row: Partial<Record<EventColumn, SqlValue>> = {};
  for (const c of EVENT_COLUMN_NAMES) row[c] = EVENT_COLUMNS[c].put(event);
  return row as AuditRow;
}

/** A row back as the event it was written from (dead-letter payloads, the archive, the API). */
export function rowToEvent(row: AuditRow): AnyAuditEvent {
  const event: Record<string, unknown> = {};
  for (const c of EVENT_COLUMN_NAMES) Object.assign(event, EVENT_COLUMNS[c].get(row[c]));
  return event as AnyAuditEvent;
}

/** A stored row as the admin API shows it: ISO times, JSON columns parsed, booleans. */
export function toRecord(row: StoredAuditRow): AuditRecord {
  return {
    ...(rowToEvent(row) as AuditEventV2),
    v: row.v === 1 ? 1 : 2,
    via: row.via,
    written_at: new Date(row.written_at).toISOString(),
  };
}

/**
 * Deep-redacts an arbitrary JSON value (an invalid dead-lettered body): every string and key is
 * scrubbed, so not even a malformed message stores personal data.
 */
export function scrubJson(value: unknown, depth = 0): unknown {
  if (depth > 20) return null;
  if (typeof value === 'string') return scrubIdentifier(value);
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [scrubIdentifier(k), scrubJson(v, depth + 1)]),
    );
  }
  return value;
}
