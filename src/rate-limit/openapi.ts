/** OpenAPI descriptions of the rate-limit headers and the 429 problem, for the check route. */
import { z } from '@hono/zod-openapi';
import { RateLimitStateSchema } from '../schemas/check';
import { ProblemSchema } from '../schemas/common';

const intHeader = (description: string, example: number) => ({
  description,
  schema: { type: 'integer' as const, minimum: 0, example },
});

/** Sent on every /v1/check response (2xx, 429, and 503 when failing closed). */
export const RATE_LIMIT_RESPONSE_HEADERS = {
  'RateLimit-Policy': {
    description:
      'draft-ietf-httpapi-ratelimit-headers-11: the key’s quotas, `q` units per `w` seconds — `"requests"`, and `"tokens"` (`qu="tokens"`) when its policy has a `token_limit`. docs/rate-limit.md#headers-and-body.',
    schema: {
      type: 'string' as const,
      example: '"requests";q=60;w=60, "tokens";q=6000;qu="tokens";w=3600',
    },
  },
  RateLimit: {
    description:
      'draft-11: per quota whose figures this response has, `r` units available now (requests: as the key’s rate limiter last told this gateway instance, at most one lease lifetime ago, less what it admitted since; tokens: as of this request’s charge) and `t` seconds until fully restored (on a 429: until this request would be admitted, equal to `Retry-After`). With two quotas, `vakt-binding` marks the one that refused, or that admits fewer further requests of this size.',
    schema: {
      type: 'string' as const,
      example: '"requests";r=59;t=1, "tokens";r=5880;t=72;vakt-binding',
    },
  },
  'X-RateLimit-Limit': intHeader('Legacy: the request quota’s `q`.', 60),
  'X-RateLimit-Remaining': intHeader('Legacy: the request quota’s `r`.', 59),
  'X-RateLimit-Reset': intHeader(
    'Legacy: the request quota’s `t` (seconds from now, not a timestamp).',
    1,
  ),
};

export const QuotaExceededProblemSchema = ProblemSchema.extend({
  decision_id: z.uuid(),
  retry_after_s: z.number().int().min(1),
  rate_limit: RateLimitStateSchema,
}).openapi('QuotaExceededProblem', {
  description:
    'RFC 9457 problem with the rate-limit state. `type` ends in `quota-exceeded` (requests) or `token-quota-exceeded` (the key’s `token_limit`; then also `input_tokens` and `token_limit: {limit, remaining, reset_s}`).',
});

export const quotaExceededResponse = {
  description:
    'Quota exceeded. Retry no earlier than `Retry-After` seconds (whole seconds, rounded up).',
  headers: {
    ...RATE_LIMIT_RESPONSE_HEADERS,
    'Retry-After': intHeader('Seconds until the next request is admitted.', 1),
  },
  content: { 'application/problem+json': { schema: QuotaExceededProblemSchema } },
};
