/**
 * The Worker's bindings (see wrangler.toml) and the per-request context variables.
 * Hand-written rather than generated so configuration vars keep their real types
 * (strings that config.ts parses), not the literal values of one wrangler.toml.
 */
import type { AuditMessageBody } from './audit/event';
import type { Metrics } from './metrics/metrics-object';
import type { RateLimiter } from './rate-limit/rate-limiter';

export interface Env {
  DB: D1Database;
  AUDIT_QUEUE: Queue<AuditMessageBody>;
  /** R2 bucket holding the audit archive (src/audit/archive.ts). */
  AUDIT_ARCHIVE: R2Bucket;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  METRICS: DurableObjectNamespace<Metrics>;

  // Secrets
  ADMIN_TOKEN?: string;
  METRICS_TOKEN?: string;
  SENTRY_DSN?: string;
  /** `key=value,key2=value2` headers for the OTLP endpoint (e.g. an API key). */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  /** Key for the audit input HMAC (≥ 32 chars); without it events carry no input hash. */
  AUDIT_HASH_KEY?: string;

  // Plain vars (strings in wrangler.toml / .dev.vars), parsed and validated by config.ts
  ENVIRONMENT?: string;
  MAX_BODY_BYTES?: string;
  RATE_LIMIT_FAILURE_MODE?: string;
  RATE_LIMIT_LEASE_MS?: string;
  METRICS_SHARDS?: string;
  METRICS_PUBLIC?: string;
  AUDIT_QUEUE_MAXSIZE?: string;
  AUDIT_RETENTION_DAYS?: string;
  AUDIT_HOT_DAYS?: string;
  KEY_CACHE_TTL_S?: string;
  SENTRY_SAMPLE_RATE?: string;
  RELEASE?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_TRACES_SAMPLER_ARG?: string;
  /** JSON object (TOML table) or JSON string. */
  DEFAULT_POLICY?: unknown;
  /** `{ patterns: string[] }` (TOML table) or JSON string. */
  KNOWN_MODELS?: unknown;
}
