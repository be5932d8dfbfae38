/**
 * Rate-limit response headers: draft-ietf-httpapi-ratelimit-headers-10 (`RateLimit-Policy`,
 * `RateLimit`, both Structured Field lists keyed by policy name) plus the legacy `X-RateLimit-*`.
 */
import type { RateLimitDecision, RateLimitRule } from './gcra';

export const POLICY_NAME = 'default';

export function rateLimitHeaders(
  rule: RateLimitRule,
  d: RateLimitDecision,
): Record<string, string> {
  return {
    'RateLimit-Policy': `"${POLICY_NAME}";q=${rule.limit};w=${rule.window_s}`,
    RateLimit: `"${POLICY_NAME}";r=${d.remaining};t=${d.reset_s}`,
    'X-RateLimit-Limit': String(d.limit),
    'X-RateLimit-Remaining': String(d.remaining),
    'X-RateLimit-Reset': String(d.reset_s),
  };
}
