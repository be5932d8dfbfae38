-- Governance API v2 (docs/governance-api.md): audit event v2 fields of output checks and monitor
-- mode. NULL in rows written before them (those decisions were input checks). The outcome
-- `monitored` needs no change here: since 0003 the event schema alone knows the outcomes.
ALTER TABLE audit_log ADD COLUMN direction TEXT CHECK (direction IS NULL OR direction IN ('input', 'output'));
-- Output checks: the decision_id of the prompt's check the caller linked (not verified).
ALTER TABLE audit_log ADD COLUMN input_decision_id TEXT;
-- Non-text parts (images, audio, files) of the checked value that were not scanned.
ALTER TABLE audit_log ADD COLUMN skipped_parts INTEGER CHECK (skipped_parts IS NULL OR skipped_parts >= 0);

-- Joining an answer's check to its prompt's: the output decisions that name a given input decision.
CREATE INDEX audit_log_input_decision ON audit_log (input_decision_id) WHERE input_decision_id IS NOT NULL;
