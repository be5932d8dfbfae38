/**
 * Configuration, parsed and validated once per isolate (per `env` object) with precise messages.
 * A bad configuration is a deployment error: requests get a 503 problem naming the setting,
 * never a half-configured gateway.
 */
import { z } from '@hono/zod-openapi';
import type { Env } from './env';
import { issueErrors, ProblemError } from './errors';
import { PolicySchema, policyVersion, type Policy } from './governance/policy';
import { OVERFLOW_LABEL_VALUE } from './metrics/definitions';
import { EXTERNAL_MODEL_LABEL } from './metrics/labels';
import { isCleanIdentifier } from './pii/identifier';
import { DEFAULT_LEASE_MS, MAX_LEASE_MS } from './rate-limit/limits';

export const RATE_LIMIT_FAILURE_MODES = ['fail_open', 'fail_closed'] as const;
export type RateLimitFailureMode = (typeof RATE_LIMIT_FAILURE_MODES)[number];

/** `always`: every admitted /v1/check counts tokens; `quota`: only keys with a `token_limit`. */
export const TOKEN_USAGE_MODES = ['always', 'quota'] as const;
export type TokenUsageMode = (typeof TOKEN_USAGE_MODES)[number];

export interface Config {
  environment: string;
  release: string;
  maxBodyBytes: number;
  rateLimitFailureMode: RateLimitFailureMode;
  /** Rate-limit lease lifetime (ms); 0 = no leases, one object call per request. */
  rateLimitLeaseMs: number;
  metricsShards: number;
  /** `/metrics` without METRICS_TOKEN in production: refused (503) unless this is true. */
  metricsPublic: boolean;
  auditQueueMaxsize: number;
  /** Days the R2 archive keeps events (0 = forever). */
  auditRetentionDays: number;
  /** Days D1 keeps events queryable through GET /admin/audit (0 = forever). */
  auditHotDays: number;
  /** Secret for the audit input HMAC (src/audit/input-hash.ts); undefined = no input hash. */
  auditHashKey: string | undefined;
  keyCacheTtlMs: number;
  sentrySampleRate: number;
  /** Share of traces vakt starts that are sampled (exported); callers' decisions are kept. */
  traceSampleRatio: number;
  /** OTLP/HTTP span export; null when OTEL_EXPORTER_OTLP_ENDPOINT is unset or empty. */
  otlp: OtlpConfig | null;
  tokenUsage: TokenUsageMode;
  /** POST /v1/usage accepts reports up to this long after the decision. */
  usageReportHorizonS: number;
  defaultPolicy: Policy;
  defaultPolicyVersion: string;
  knownModels: readonly string[];
}

export interface OtlpConfig {
  /** `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
  tracesUrl: string;
  headers: Record<string, string>;
  serviceName: string;
}

const intVar = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const jsonVar = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v; // leave it to the schema to report a readable type error
    }
  }, schema);

/**
 * The default of every plain var, exactly as wrangler.toml ships it (`[vars]`), so a setting left
 * out of an environment behaves as the committed file says. test/node/config-defaults.test.ts
 * fails when the two disagree; change both together.
 */
export const VAR_DEFAULTS = {
  ENVIRONMENT: 'production',
  RELEASE: 'unknown',
  MAX_BODY_BYTES: 256 * 1024,
  RATE_LIMIT_FAILURE_MODE: 'fail_open',
  RATE_LIMIT_LEASE_MS: DEFAULT_LEASE_MS,
  METRICS_SHARDS: 4,
  METRICS_PUBLIC: 'false',
  AUDIT_QUEUE_MAXSIZE: 1000,
  AUDIT_RETENTION_DAYS: 365,
  AUDIT_HOT_DAYS: 30,
  KEY_CACHE_TTL_S: 30,
  SENTRY_SAMPLE_RATE: 1,
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_SERVICE_NAME: 'vakt',
  OTEL_TRACES_SAMPLER_ARG: 1,
  TOKEN_USAGE: 'always',
  USAGE_REPORT_HORIZON_S: 86_400,
  DEFAULT_POLICY: {
    models: ['gpt-4*', 'gpt-3.5*', 'gpt-4o*', 'claude-*', 'mistral-*'],
    operations: ['classify', 'summarize', 'extract', 'translate', 'generate', 'chat', 'embed'],
    // Names and addresses redact by default: turning them on must not start blocking traffic.
    detectors: {
      email: 'redact',
      phone: 'redact',
      ip_address: 'redact',
      person_name: 'redact',
      postal_address: 'redact',
    },
    default_detector_action: 'block',
    secrets_action: 'block',
    max_input_chars: 100_000,
    rate_limit: { limit: 60, window_s: 60 },
  } satisfies Policy as Policy,
  /**
   * Models vakt recognises. An entry without `*` is an exact model id, with `*` a pattern. Each
   * entry is also a possible value of the public `model` metric label (src/metrics/labels.ts), so
   * it must be a plain identifier with no personal data, and not a reserved label value.
   */
  KNOWN_MODELS: {
    patterns: [
      'gpt-4',
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-3.5-turbo',
      'o1',
      'o1-mini',
      'o3',
      'o3-mini',
      'gpt-*',
      'o1*',
      'o3*',
      'claude-*',
      'mistral-*',
      'gemini-*',
      'llama-*',
      'command-*',
    ],
  },
} as const;

const knownModelEntry = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:/*@-]+$/, 'entries use letters, digits, . _ : / @ - and * as wildcard')
  .refine((m) => m.toLowerCase() !== EXTERNAL_MODEL_LABEL && m !== OVERFLOW_LABEL_VALUE, {
    message: `"${EXTERNAL_MODEL_LABEL}" and "${OVERFLOW_LABEL_VALUE}" are reserved label values`,
  })
  .refine(isCleanIdentifier, {
    message: 'looks like personal data or a secret; entries become public metric label values',
  });

const D = VAR_DEFAULTS;
const EnvSchema = z
  .object({
    ENVIRONMENT: z.string().min(1).default(D.ENVIRONMENT),
    RELEASE: z.string().min(1).default(D.RELEASE),
    MAX_BODY_BYTES: intVar(1024, 100 * 1024 * 1024, D.MAX_BODY_BYTES),
    RATE_LIMIT_FAILURE_MODE: z.enum(RATE_LIMIT_FAILURE_MODES).default(D.RATE_LIMIT_FAILURE_MODE),
    RATE_LIMIT_LEASE_MS: intVar(0, MAX_LEASE_MS, D.RATE_LIMIT_LEASE_MS),
    METRICS_SHARDS: intVar(1, 64, D.METRICS_SHARDS),
    METRICS_PUBLIC: z.enum(['true', 'false']).default(D.METRICS_PUBLIC),
    AUDIT_QUEUE_MAXSIZE: intVar(1, 100_000_000, D.AUDIT_QUEUE_MAXSIZE),
    AUDIT_RETENTION_DAYS: intVar(0, 36_500, D.AUDIT_RETENTION_DAYS),
    AUDIT_HOT_DAYS: intVar(0, 36_500, D.AUDIT_HOT_DAYS),
    // A secret: never echoed in errors (zod's min/max messages name lengths only).
    AUDIT_HASH_KEY: z
      .string()
      .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
      .optional(),
    KEY_CACHE_TTL_S: intVar(0, 3600, D.KEY_CACHE_TTL_S),
    SENTRY_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(D.SENTRY_SAMPLE_RATE),
    OTEL_EXPORTER_OTLP_ENDPOINT: z
      .union([z.literal(''), z.url({ protocol: /^https?$/ })])
      .default(D.OTEL_EXPORTER_OTLP_ENDPOINT),
    OTEL_EXPORTER_OTLP_HEADERS: z
      .string()
      .regex(
        /^\s*(?:[^=,\s]+\s*=[^,]*(?:,\s*[^=,\s]+\s*=[^,]*)*)?\s*$/,
        'expected key=value,key2=value2',
      )
      .default(''),
    OTEL_SERVICE_NAME: z.string().min(1).max(128).default(D.OTEL_SERVICE_NAME),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(D.OTEL_TRACES_SAMPLER_ARG),
    TOKEN_USAGE: z.enum(TOKEN_USAGE_MODES).default(D.TOKEN_USAGE),
    USAGE_REPORT_HORIZON_S: intVar(60, 30 * 86_400, D.USAGE_REPORT_HORIZON_S),
    DEFAULT_POLICY: jsonVar(PolicySchema).default(D.DEFAULT_POLICY),
    KNOWN_MODELS: jsonVar(
      z.strictObject({ patterns: z.array(knownModelEntry).min(1).max(500) }),
    ).default({ patterns: [...D.KNOWN_MODELS.patterns] }),
  })
  .refine(
    (v) =>
      v.AUDIT_RETENTION_DAYS === 0 ||
      v.AUDIT_HOT_DAYS === 0 ||
      v.AUDIT_HOT_DAYS <= v.AUDIT_RETENTION_DAYS,
    {
      path: ['AUDIT_HOT_DAYS'],
      message: 'must not exceed AUDIT_RETENTION_DAYS (the archive keeps what D1 trims)',
    },
  );

const cache = new WeakMap<Env, Promise<Config>>();

/** The validated configuration for this `env`; computed once per isolate. */
export function getConfig(env: Env): Promise<Config> {
  let config = cache.get(env);
  if (!config) {
    config = loadConfig(env);
    cache.set(env, config);
    // A failed load is not cached: fixing a var and redeploying must not need a cold start.
    config.catch(() => cache.delete(env));
  }
  return config;
}

async function loadConfig(env: Env): Promise<Config> {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ProblemError(503, {
      detail: 'vakt is misconfigured; an operator must fix the settings listed in errors.',
      errors: issueErrors(parsed.error.issues),
    });
  }
  const v = parsed.data;
  return {
    environment: v.ENVIRONMENT,
    release: v.RELEASE,
    maxBodyBytes: v.MAX_BODY_BYTES,
    rateLimitFailureMode: v.RATE_LIMIT_FAILURE_MODE,
    rateLimitLeaseMs: v.RATE_LIMIT_LEASE_MS,
    metricsShards: v.METRICS_SHARDS,
    metricsPublic: v.METRICS_PUBLIC === 'true',
    auditQueueMaxsize: v.AUDIT_QUEUE_MAXSIZE,
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    auditHotDays: v.AUDIT_HOT_DAYS,
    auditHashKey: v.AUDIT_HASH_KEY,
    keyCacheTtlMs: v.KEY_CACHE_TTL_S * 1000,
    sentrySampleRate: v.SENTRY_SAMPLE_RATE,
    traceSampleRatio: v.OTEL_TRACES_SAMPLER_ARG,
    otlp: v.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          tracesUrl: v.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '') + '/v1/traces',
          headers: parseOtlpHeaders(v.OTEL_EXPORTER_OTLP_HEADERS),
          serviceName: v.OTEL_SERVICE_NAME,
        }
      : null,
    tokenUsage: v.TOKEN_USAGE,
    usageReportHorizonS: v.USAGE_REPORT_HORIZON_S,
    defaultPolicy: v.DEFAULT_POLICY,
    defaultPolicyVersion: await policyVersion(v.DEFAULT_POLICY),
    knownModels: v.KNOWN_MODELS.patterns,
  };
}

/** `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values percent-decoded as the OTel spec says). */
export function parseOtlpHeaders(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    let v = pair.slice(eq + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      // not percent-encoded: use as written
    }
    if (key) out[key] = v;
  }
  return out;
}
