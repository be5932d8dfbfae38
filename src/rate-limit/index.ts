/**
 * The rate-limit stage as the check route sees it: ask the key's RATE_LIMITER object, and apply
 * the configured failure policy if the object cannot answer.
 */
import type { RateLimitFailureMode } from '../config';
import type { Env } from '../env';
import type { RateLimitDecision, RateLimitRule } from './gcra';

export type { RateLimitDecision, RateLimitRule } from './gcra';
export { rateLimitHeaders } from './headers';

export interface RateLimitOutcome {
  decision: RateLimitDecision;
  /** Set when the object failed and the failure policy decided instead. */
  failure?: { mode: RateLimitFailureMode; error: unknown };
}

export async function checkRateLimit(
  env: Env,
  keyId: string,
  rule: RateLimitRule,
  failureMode: RateLimitFailureMode,
): Promise<RateLimitOutcome> {
  try {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(keyId));
    return { decision: await stub.check(rule) };
  } catch (error) {
    const open = failureMode === 'fail_open';
    return {
      decision: {
        allowed: open,
        limit: rule.limit,
        remaining: open ? rule.limit : 0,
        reset_s: open ? 0 : 1,
        retry_after_s: open ? 0 : 1,
      },
      failure: { mode: failureMode, error },
    };
  }
}
