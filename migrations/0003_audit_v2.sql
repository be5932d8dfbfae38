-- Audit event v2 (docs/audit.md). audit_log is rebuilt, because SQLite cannot relax a column's
-- NOT NULL / CHECK in place:
--   * input_sha256 (an unkeyed, reversible SHA-256 of the input) is dropped — existing values
--     are NOT copied; v2 carries input_hmac (HMAC-SHA-256 under the secret AUDIT_HASH_KEY) and
--     input_hmac_key_id, both NULL when no key was configured;
--   * outcome loses its CHECK: the event schema (src/audit/event.ts) is the one place that
--     knows the outcomes, so a new outcome needs no table rebuild;
--   * archived: 1 once the row's event is in the R2 archive (AUDIT_ARCHIVE); the retention cron
--     archives rows with 0 before it trims them from this hot window.
-- Later fields are added with ALTER TABLE ... ADD COLUMN (one column per field).
CREATE TABLE audit_log_v2 (
  decision_id       TEXT PRIMARY KEY,  -- UUID returned by POST /v1/check; the idempotency key
  v                 INTEGER NOT NULL,  -- event version the row was written from (1 or 2)
  ts                INTEGER NOT NULL,  -- decision time (epoch ms)
  request_id        TEXT NOT NULL,     -- X-Request-Id of the check request (scrubbed)
  api_key_id        TEXT NOT NULL,     -- api_keys.id (UUID), never the key
  model             TEXT NOT NULL,     -- model named by the caller (scrubbed)
  operation         TEXT NOT NULL,     -- operation named by the caller (scrubbed)
  allowed           INTEGER NOT NULL CHECK (allowed IN (0, 1)),
  outcome           TEXT NOT NULL,     -- allowed | blocked | rate_limited (validated by the event schema)
  reasons           TEXT NOT NULL,     -- JSON array of block reasons (fixed vocabulary)
  finding_counts    TEXT NOT NULL,     -- JSON object: finding type -> count (no offsets, no values)
  policy_version    TEXT NOT NULL,     -- version of the effective policy the decision used
  input_chars       INTEGER NOT NULL CHECK (input_chars >= 0),
  input_hmac        TEXT CHECK (input_hmac IS NULL OR length(input_hmac) = 64),
  input_hmac_key_id TEXT CHECK (input_hmac_key_id IS NULL OR length(input_hmac_key_id) = 16),
  latency_ms        REAL NOT NULL,     -- time from request start to the decision
  metadata          TEXT,              -- JSON object from the caller, scrubbed; NULL = none
  via               TEXT NOT NULL CHECK (via IN ('queue', 'fallback', 'replay')),
  written_at        INTEGER NOT NULL,  -- when the row was stored (epoch ms)
  archived          INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))
) STRICT;

INSERT INTO audit_log_v2 (decision_id, v, ts, request_id, api_key_id, model, operation, allowed,
  outcome, reasons, finding_counts, policy_version, input_chars, latency_ms, metadata, via,
  written_at, archived)
SELECT decision_id, v, ts, request_id, api_key_id, model, operation, allowed, outcome, reasons,
  finding_counts, policy_version, input_chars, latency_ms, metadata, via, written_at, 0
FROM audit_log;

DROP TABLE audit_log;
ALTER TABLE audit_log_v2 RENAME TO audit_log;

-- As in 0002: newest-first listing and keyset pagination; the per-key filter.
CREATE INDEX audit_log_ts ON audit_log (ts, decision_id);
CREATE INDEX audit_log_key_ts ON audit_log (api_key_id, ts, decision_id);
-- The retention cron's "not yet archived" scan.
CREATE INDEX audit_log_unarchived ON audit_log (ts) WHERE archived = 0;
