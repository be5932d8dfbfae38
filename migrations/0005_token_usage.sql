-- Token usage reported after a model call (POST /v1/usage, docs/tokens.md "Usage after the
-- call"): one row per decision, so a retried report is recognised and never charged twice.
-- Counts only; never text. Times are epoch milliseconds like audit_log.
CREATE TABLE token_usage (
  decision_id   TEXT PRIMARY KEY,   -- the /v1/check decision the call belonged to (audit_log.decision_id)
  api_key_id    TEXT NOT NULL,      -- api_keys.id of the reporting key (the decision's own key)
  output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
  input_tokens  INTEGER CHECK (input_tokens IS NULL OR input_tokens >= 0), -- as the provider billed them, when reported
  reported_at   INTEGER NOT NULL    -- when the report was stored (epoch ms)
) STRICT;

-- Per-key usage over time (admin views, retention).
CREATE INDEX token_usage_key ON token_usage (api_key_id, reported_at);
