-- Observability v2 (docs/observability.md): the request's W3C trace id on each decision, so an
-- audit row leads to its trace, Sentry event and log lines. NULL in rows written before it.
ALTER TABLE audit_log ADD COLUMN trace_id TEXT CHECK (trace_id IS NULL OR (length(trace_id) = 32 AND trace_id NOT GLOB '*[^0-9a-f]*'));
