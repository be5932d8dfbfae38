/**
 * The audit row: how an AuditEvent is stored in `audit_log` (migrations/0002_audit.sql) and how a
 * stored row is shown by the admin API. `toRow` is the single place every write path (queue
 * consumer, producer fallback, dead-letter replay) goes through, so it is also the last guard
 * against personal data: every string a client could influence is scanned and redacted here.
 */
import { redact, scanText, type Detection, type DetectorType } from '../pii';
import { scrubIdentifier as scrubIdentifierField } from '../pii/identifier';
import type { AuditEvent, AuditOutcome } from './event';

/** How a row reached the log. */
export type AuditVia = 'queue' | 'fallback' | 'replay';

/** A row ready to insert, in the column order of `audit_log` (see store.ts). */
export interface AuditRow {
  decision_id: string;
  v: number;
  ts: number;
  request_id: string;
  api_key_id: string;
  model: string;
  operation: string;
  allowed: 0 | 1;
  outcome: AuditOutcome;
  reasons: string;
  finding_counts: string;
  policy_version: string;
  input_chars: number;
  input_sha256: string;
  latency_ms: number;
  metadata: string | null;
}

/** A row as stored (adds the consumer's bookkeeping columns). */
export interface StoredAuditRow extends AuditRow {
  via: AuditVia;
  written_at: number;
}

/** An audit record as the admin API returns it: the event as written, plus how and when. */
export interface AuditRecord extends Omit<AuditEvent, 'v'> {
  /** The event version the row was written from. */
  v: number;
  via: AuditVia;
  /** ISO 8601 time the row was written. */
  written_at: string;
}

/**
 * Detector types left alone in identifiers (model, operation, request id, metadata keys): phone
 * and IP patterns match version numbers and dates in model names (`claude-3-5-sonnet-20241022`,
 * `llama-3.1.8.2`) and would make the log useless for its main question, "which model?".
 */
const IDENTIFIER_EXEMPT: ReadonlySet<DetectorType> = new Set<DetectorType>(['phone', 'ip_address']);

/**
 * Redaction can lengthen a string (`923 609 016` → `[NO_ORGANISASJONSNUMMER]`), so a scrubbed
 * identifier is cut back to what the event schema accepts (src/audit/validate.ts): an accepted
 * request must never become an invalid, unstorable audit event.
 */
export const MAX_IDENTIFIER_LENGTH = 256;
function bounded(text: string): string {
  return text.length <= MAX_IDENTIFIER_LENGTH
    ? text
    : text.slice(0, MAX_IDENTIFIER_LENGTH - 1) + '…';
}

/** Redacts personal data and secrets in free text (metadata values): every detector applies. */
export function scrubText(text: string): string {
  return redact(text, scanText(text));
}

/** Redacts personal data and secrets in an identifier-like string (see IDENTIFIER_EXEMPT). */
export function scrubIdentifier(text: string): string {
  const found: Detection[] = scanText(text).filter((d) => !IDENTIFIER_EXEMPT.has(d.type));
  return redact(text, found);
}

function scrubMetadata(metadata: AuditEvent['metadata']): AuditEvent['metadata'] {
  if (metadata === null) return null;
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(metadata)) {
    const k = scrubIdentifier(key);
    // Two keys that redact to the same label keep the first value; never merge or lose silently
    // more than that (the values are redacted anyway).
    if (k in out) continue;
    out[k] =
      typeof value === 'string'
        ? scrubText(value)
        : typeof value === 'number'
          ? scrubNumber(value)
          : value;
  }
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
  const clean = scrubIdentifierField(text);
  return clean === text ? n : clean;
}

/**
 * The event with every client-influenced string redacted. The producer applies it before the
 * event enters the queue (queue messages are stored too) and `toRow` again before any write, so a
 * replayed or older event is covered as well. Idempotent: `[TYPE]` labels are never re-detected.
 */
export function sanitizeEvent(event: AuditEvent): AuditEvent {
  return {
    ...event,
    request_id: bounded(scrubIdentifier(event.request_id)),
    model: bounded(scrubIdentifier(event.model)),
    operation: bounded(scrubIdentifier(event.operation)),
    metadata: scrubMetadata(event.metadata),
  };
}

/** The stored form of a validated event. */
export function toRow(raw: AuditEvent): AuditRow {
  const event = sanitizeEvent(raw);
  return {
    decision_id: event.decision_id,
    v: event.v,
    ts: Date.parse(event.ts),
    request_id: event.request_id,
    api_key_id: event.api_key_id,
    model: event.model,
    operation: event.operation,
    allowed: event.allowed ? 1 : 0,
    outcome: event.outcome,
    reasons: JSON.stringify(event.reasons),
    finding_counts: JSON.stringify(event.finding_counts),
    policy_version: event.policy_version,
    input_chars: event.input_chars,
    input_sha256: event.input_sha256,
    latency_ms: event.latency_ms,
    metadata: event.metadata === null ? null : JSON.stringify(event.metadata),
  };
}

/** A row back as the event it was written from (used to keep scrubbed dead-letter payloads). */
export function rowToEvent(row: AuditRow): AuditEvent {
  return {
    v: 1,
    decision_id: row.decision_id,
    ts: new Date(row.ts).toISOString(),
    request_id: row.request_id,
    api_key_id: row.api_key_id,
    model: row.model,
    operation: row.operation,
    allowed: row.allowed === 1,
    outcome: row.outcome,
    reasons: JSON.parse(row.reasons) as AuditEvent['reasons'],
    finding_counts: JSON.parse(row.finding_counts) as AuditEvent['finding_counts'],
    policy_version: row.policy_version,
    input_chars: row.input_chars,
    input_sha256: row.input_sha256,
    latency_ms: row.latency_ms,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as AuditEvent['metadata']),
  };
}

/** A stored row as the admin API shows it: ISO times, JSON columns parsed, booleans. */
export function toRecord(row: StoredAuditRow): AuditRecord {
  return {
    ...rowToEvent(row),
    v: row.v,
    via: row.via,
    written_at: new Date(row.written_at).toISOString(),
  };
}

/**
 * Deep-redacts an arbitrary JSON value (an invalid dead-lettered body): every string and key is
 * scanned with every detector, so not even a malformed message stores personal data.
 */
export function scrubJson(value: unknown, depth = 0): unknown {
  if (depth > 20) return null;
  if (typeof value === 'string') return scrubText(value);
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[scrubText(k)] = scrubJson(v, depth + 1);
    return out;
  }
  return value;
}
