-- Usage charged to the token quota (docs/tokens.md "Usage after the call").
--
-- token_usage.charge: what the report did to the key's token quota.
--   pending  recorded, the charge in the key's RATE_LIMITER object not yet confirmed (a crash or
--            an unreachable object between the two); a retry of the report, or the daily cron,
--            completes it — the object charges each decision once, so completing twice is safe;
--   charged  charged to the quota (once: the object remembers the decision ids it charged);
--   none     not charged: the key had no token_limit, or the report predates this migration.
ALTER TABLE token_usage ADD COLUMN charge TEXT NOT NULL DEFAULT 'none' CHECK (charge IN ('pending', 'charged', 'none'));
-- The cron's scan for reports whose charge is still pending.
CREATE INDEX token_usage_pending ON token_usage (reported_at) WHERE charge = 'pending';

-- Audit event v2 (docs/audit.md): `kind` is NULL for a decision and 'usage' for a usage event
-- (a report of the tokens a decision's model call used, linked by input_decision_id); `usage` is
-- the JSON object of token figures on usage events, token-quota refusals and output checks that
-- carried usage. NULL in rows written before.
ALTER TABLE audit_log ADD COLUMN kind TEXT;
ALTER TABLE audit_log ADD COLUMN usage TEXT;
