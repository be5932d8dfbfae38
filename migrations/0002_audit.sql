-- The audit log: one row per governance decision (allowed, blocked, rate-limited), written by the
-- audit queue consumer (src/audit). Never input text or a detected value. Documented column by
-- column in docs/audit.md. Times are INTEGER Unix epoch milliseconds (UTC): compact, totally
-- ordered, cheap range scans; the admin API shows them as ISO 8601.
CREATE TABLE audit_log (
  decision_id    TEXT PRIMARY KEY,  -- UUID returned by POST /v1/check; the idempotency key
  v              INTEGER NOT NULL,  -- AuditEvent schema version the row was written from
  ts             INTEGER NOT NULL,  -- decision time (epoch ms)
  request_id     TEXT NOT NULL,     -- X-Request-Id of the check request, to join with logs/Sentry
  api_key_id     TEXT NOT NULL,     -- api_keys.id (UUID), never the key
  model          TEXT NOT NULL,     -- model named by the caller (personal data redacted)
  operation      TEXT NOT NULL,     -- operation named by the caller (personal data redacted)
  allowed        INTEGER NOT NULL CHECK (allowed IN (0, 1)),
  outcome        TEXT NOT NULL CHECK (outcome IN ('allowed', 'blocked', 'rate_limited')),
  reasons        TEXT NOT NULL,     -- JSON array of block reasons (fixed vocabulary)
  finding_counts TEXT NOT NULL,     -- JSON object: finding type -> count (no offsets, no values)
  policy_version TEXT NOT NULL,     -- version of the effective policy the decision used
  input_chars    INTEGER NOT NULL CHECK (input_chars >= 0),
  input_sha256   TEXT NOT NULL CHECK (length(input_sha256) = 64),
  latency_ms     REAL NOT NULL,     -- time from request start to the decision
  metadata       TEXT,              -- JSON object from the caller, personal data redacted; NULL = none
  via            TEXT NOT NULL CHECK (via IN ('queue', 'fallback', 'replay')),
  written_at     INTEGER NOT NULL   -- when the row was stored (epoch ms); written_at - ts = log lag
) STRICT;

-- Newest-first listing and keyset pagination on (ts, decision_id); retention range deletes.
CREATE INDEX audit_log_ts ON audit_log (ts, decision_id);
-- The same, per API key (GET /admin/audit?key_id=).
CREATE INDEX audit_log_key_ts ON audit_log (api_key_id, ts, decision_id);

-- Reason index: one entry per (decision, reason), so ?reason= is a range scan of its own
-- primary key instead of a scan of every row's JSON array. Filled from audit_log in the same
-- transaction as the row.
CREATE TABLE audit_log_reasons (
  reason      TEXT NOT NULL,
  ts          INTEGER NOT NULL,
  decision_id TEXT NOT NULL,
  PRIMARY KEY (reason, ts, decision_id)
) STRICT, WITHOUT ROWID;

-- Audit events that could not be written: invalid bodies, rows D1 rejected on the last delivery,
-- and messages the vakt-audit-dlq consumer received. Kept until replayed
-- (POST /admin/audit/dead-letters/replay); replayed ones are removed by retention.
CREATE TABLE audit_dead_letters (
  id              TEXT PRIMARY KEY,  -- decision_id, or 'message:<queue message id>' when the body has none
  decision_id     TEXT,              -- the event's decision_id if it carries a valid one
  message_id      TEXT NOT NULL,     -- queue message id, to correlate with queue logs
  queue           TEXT NOT NULL,     -- queue the message failed on (vakt-audit (the queue the event failed on))
  reason          TEXT NOT NULL CHECK (reason IN ('invalid_event', 'write_failed', 'retries_exhausted')),
  error           TEXT NOT NULL,     -- error class and message (field names only, never values)
  attempts        INTEGER NOT NULL,  -- deliveries of the message on that queue
  payload         TEXT,              -- the event as JSON (redacted), for replay; NULL if too large
  dead_at         INTEGER NOT NULL,  -- when it was dead-lettered (epoch ms)
  replayed_at     INTEGER,           -- when a replay put the event into audit_log; NULL = pending
  replay_attempts INTEGER NOT NULL DEFAULT 0,
  replay_error    TEXT               -- why the last replay failed
) STRICT;

CREATE INDEX audit_dead_letters_dead_at ON audit_dead_letters (dead_at, id);
