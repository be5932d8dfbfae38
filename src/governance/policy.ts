/**
 * Policies: what a key may do. The default comes from configuration (`DEFAULT_POLICY`); a key may
 * carry a partial override that is merged over it. Both are validated on write/load with
 * field-level errors, and every decision records `policy_version`, a hash of the canonical JSON of
 * the effective policy, so the same rules always give the same version.
 */
import { z } from '@hono/zod-openapi';
import { sha256Hex } from '../hash';
import { DETECTOR_TYPES, categoryOf, type DetectorType } from '../pii';
import { MAX_LIMIT, MAX_WINDOW_S } from '../rate-limit/gcra';
import { MAX_TOKEN_WINDOW_S, MAX_TOKENS } from '../rate-limit/token-bucket';
import { cleanName } from '../schemas/identifier-text';

export const ACTIONS = ['block', 'redact', 'allow'] as const;
export type Action = (typeof ACTIONS)[number];

const modelPattern = cleanName(
  z
    .string()
    .min(1)
    .max(128)
    .regex(
      /^[A-Za-z0-9._:/*@-]+$/,
      'model patterns use letters, digits, . _ : / @ - and * as wildcard',
    ),
);

const operationName = cleanName(
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9_-]*$/, 'operations are lower-case words (a-z, 0-9, _ and -)'),
);

const detectorActions = z
  .partialRecord(z.enum(DETECTOR_TYPES as [DetectorType, ...DetectorType[]]), z.enum(ACTIONS))
  .openapi({ description: 'Action per detector type; unnamed types use the category default.' });

/**
 * `enforce` blocks and redacts; `monitor` decides in full but blocks and alters nothing, and
 * reports what enforce would have done (docs/governance-api.md "Monitor mode").
 */
export const MODES = ['enforce', 'monitor'] as const;
export type Mode = (typeof MODES)[number];

const maxChars = z.number().int().min(1).max(10_000_000);

export const OutputPolicySchema = z
  .strictObject({
    detectors: detectorActions.optional(),
    default_detector_action: z.enum(ACTIONS).optional(),
    secrets_action: z.enum(ACTIONS).optional(),
    max_chars: maxChars.optional().describe('Size limit of a checked output (code points).'),
  })
  .openapi('OutputPolicy', {
    description:
      'Detector actions and size limit for output checks (`output` instead of `input`). Each omitted field is the input’s; `detectors` entries are merged over the input’s.',
    example: { detectors: { email: 'block' } },
  });
export type OutputPolicy = z.infer<typeof OutputPolicySchema>;

const mode = z
  .enum(MODES)
  .optional()
  .describe(
    '`enforce` (the default when absent) or `monitor`: decide in full, but block and redact nothing; the response’s `monitor` says what enforce would have done.',
  );

export const RateLimitPolicySchema = z
  .strictObject({
    limit: z.number().int().min(1).max(MAX_LIMIT),
    window_s: z.number().int().min(1).max(MAX_WINDOW_S),
  })
  .openapi('RateLimitPolicy', { description: '`limit` requests per `window_s` seconds.' });

/**
 * A token quota: `tokens` per `window_s`, enforced like `rate_limit` (GCRA) where a request costs
 * its counted input tokens (src/rate-limit/token-bucket.ts, docs/tokens.md). The bound keeps the limiter's integer arithmetic (window in
 * ms × limit) below 2^53.
 */
export const TokenLimitPolicySchema = z
  .strictObject({
    tokens: z.number().int().min(1).max(MAX_TOKENS),
    window_s: z.number().int().min(1).max(MAX_TOKEN_WINDOW_S),
  })
  .openapi('TokenLimitPolicy', {
    description:
      '`tokens` input tokens per `window_s` seconds, enforced exactly in the key’s rate limiter (docs/tokens.md): over it → `429` `…:token-quota-exceeded` with `Retry-After`; one request over the whole quota → `413` `…:token-request-too-large`. Output tokens are not charged yet.',
    example: { tokens: 100_000, window_s: 60 },
  });
export type TokenLimitPolicy = z.infer<typeof TokenLimitPolicySchema>;

export const PolicySchema = z
  .strictObject({
    models: z
      .array(modelPattern)
      .min(1)
      .max(100)
      .describe('Model patterns this key may use (`*` is a wildcard).'),
    operations: z.array(operationName).min(1).max(100).describe('Operations this key may perform.'),
    detectors: detectorActions.default({}),
    default_detector_action: z
      .enum(ACTIONS)
      .describe('Action for personal-data types not named in `detectors`.'),
    secrets_action: z.enum(ACTIONS).describe('Action for secret types not named in `detectors`.'),
    max_input_chars: maxChars,
    rate_limit: RateLimitPolicySchema,
    token_limit: TokenLimitPolicySchema.optional(),
    mode,
    output: OutputPolicySchema.optional(),
  })
  .openapi('Policy');

export type Policy = z.infer<typeof PolicySchema>;

/** What a key may store: some or all policy fields, merged over the default. */
export const PolicyOverrideSchema = z
  .strictObject({
    models: PolicySchema.shape.models.optional(),
    operations: PolicySchema.shape.operations.optional(),
    detectors: detectorActions.optional(),
    default_detector_action: z.enum(ACTIONS).optional(),
    secrets_action: z.enum(ACTIONS).optional(),
    max_input_chars: PolicySchema.shape.max_input_chars.optional(),
    rate_limit: RateLimitPolicySchema.partial().optional(),
    token_limit: TokenLimitPolicySchema.nullable()
      .optional()
      .describe('A token quota for this key; `null` removes the default policy’s.'),
    mode,
    output: OutputPolicySchema.optional(),
  })
  .openapi('PolicyOverride', {
    description: 'Any subset of a policy; omitted fields come from the default policy.',
  });

export type PolicyOverride = z.infer<typeof PolicyOverrideSchema>;

/** Merges an override over a base policy (`detectors`, `rate_limit` and `output` merge per field). */
export function mergePolicy(base: Policy, override: PolicyOverride | null | undefined): Policy {
  if (!override) return base;
  return {
    models: override.models ?? base.models,
    operations: override.operations ?? base.operations,
    detectors: { ...base.detectors, ...override.detectors },
    default_detector_action: override.default_detector_action ?? base.default_detector_action,
    secrets_action: override.secrets_action ?? base.secrets_action,
    max_input_chars: override.max_input_chars ?? base.max_input_chars,
    rate_limit: { ...base.rate_limit, ...override.rate_limit },
    token_limit:
      override.token_limit === undefined ? base.token_limit : (override.token_limit ?? undefined),
    // Absent fields stay absent, so policies written before they existed keep their version.
    mode: override.mode ?? base.mode,
    output: mergeOutput(base.output, override.output),
  };
}

function mergeOutput(base?: OutputPolicy, override?: OutputPolicy): OutputPolicy | undefined {
  if (!base || !override) return override ?? base;
  return { ...base, ...override, detectors: { ...base.detectors, ...override.detectors } };
}

/**
 * The policy a check applies: the policy itself for input, and for output the policy with its
 * `output` section's detector actions and size limit laid over the input's.
 */
export function policyFor(policy: Policy, direction: 'input' | 'output'): Policy {
  const out = policy.output;
  if (direction === 'input' || !out) return policy;
  return {
    ...policy,
    detectors: { ...policy.detectors, ...out.detectors },
    default_detector_action: out.default_detector_action ?? policy.default_detector_action,
    secrets_action: out.secrets_action ?? policy.secrets_action,
    max_input_chars: out.max_chars ?? policy.max_input_chars,
  };
}

/** The action a policy gives a detector type. */
export function actionFor(policy: Policy, type: DetectorType): Action {
  return (
    policy.detectors[type] ??
    (categoryOf(type) === 'secret' ? policy.secrets_action : policy.default_detector_action)
  );
}

/** JSON with object keys sorted recursively: equal policies serialise identically. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `policy_version`: first 16 hex chars of SHA-256 over the canonical JSON of the effective policy. */
export async function policyVersion(policy: Policy): Promise<string> {
  return (await sha256Hex(canonicalJson(policy))).slice(0, 16);
}

/** Glob match where `*` matches any run of characters; case-insensitive. Linear-time. */
export function globMatch(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === v[vi]) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

export function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => globMatch(p, value));
}
