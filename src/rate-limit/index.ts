/**
 * The rate-limit stage as the check route sees it: answer from the isolate's deny cache when the
 * key is known to be over quota, otherwise ask the key's RATE_LIMITER object, and apply the
 * configured failure policy when the object cannot answer (error, overload or timeout).
 */
import type { RateLimitFailureMode } from '../config';
import { DenyCache } from './deny-cache';
import type { RateLimitDecision, RateLimitRule } from './gcra';

export type { RateLimitDecision, RateLimitRule } from './gcra';
export { rateLimitHeaders } from './headers';

/**
 * What the stage needs from the RATE_LIMITER binding. `DurableObjectNamespace<RateLimiter>`
 * satisfies it; tests pass a namespace whose objects fail, without touching production paths.
 */
export interface RateLimiterNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { check(rule: RateLimitRule): Promise<RateLimitDecision> };
}

export type RateLimitOutcome =
  /** The key's object decided. */
  | { source: 'object'; decision: RateLimitDecision }
  /** Denied from this isolate's deny cache, without calling the object. */
  | { source: 'cache'; decision: RateLimitDecision }
  /** The object failed; `decision` is what the failure policy chose. */
  | { source: 'failure'; decision: RateLimitDecision; mode: RateLimitFailureMode; error: unknown };

export interface CheckRateLimitOptions {
  /** Give up on the object after this long and apply the failure policy. */
  timeoutMs?: number;
  denyCache?: DenyCache;
  /** The isolate's clock, for the deny cache only (the object keeps its own time). */
  now?: () => number;
}

export const RATE_LIMIT_TIMEOUT_MS = 2_000;

/** The isolate's deny cache. Module scope is per isolate in Workers. */
export const denyCache = new DenyCache();

/** Thrown (and reported) when the object does not answer within the timeout. */
export class RateLimiterTimeoutError extends Error {
  override name = 'RateLimiterTimeoutError';
}

export async function checkRateLimit(
  namespace: RateLimiterNamespace,
  keyId: string,
  rule: RateLimitRule,
  failureMode: RateLimitFailureMode,
  options: CheckRateLimitOptions = {},
): Promise<RateLimitOutcome> {
  const cache = options.denyCache ?? denyCache;
  const now = options.now ?? Date.now;
  const cached = cache.get(keyId, rule, now());
  if (cached) return { source: 'cache', decision: cached };

  const timeoutMs = options.timeoutMs ?? RATE_LIMIT_TIMEOUT_MS;
  const ask = () => withTimeout(namespace.get(namespace.idFromName(keyId)).check(rule), timeoutMs);
  try {
    let decision: RateLimitDecision;
    try {
      decision = await ask();
    } catch (error) {
      // Cloudflare marks transient failures (a deploy or a moved object) `retryable`; one retry
      // on a fresh stub is the documented remedy. Never retry an overloaded object: that is the
      // load we must not add. A retried request may be counted twice — the safe direction.
      if (!isRetryable(error)) throw error;
      decision = await ask();
    }
    cache.record(keyId, rule, decision, now());
    return { source: 'object', decision };
  } catch (error) {
    return {
      source: 'failure',
      decision: failureDecision(rule, failureMode),
      mode: failureMode,
      error,
    };
  }
}

/**
 * fail_open admits but claims no spare quota (r=0, t=1), nudging well-behaved clients to slow
 * down while nothing is enforced; fail_closed refuses with a one-second Retry-After.
 */
export function failureDecision(
  rule: RateLimitRule,
  mode: RateLimitFailureMode,
): RateLimitDecision {
  const open = mode === 'fail_open';
  return {
    allowed: open,
    limit: rule.limit,
    remaining: 0,
    reset_s: 1,
    retry_after_s: open ? 0 : 1,
  };
}

function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { retryable?: unknown; overloaded?: unknown };
  return e.retryable === true && e.overloaded !== true;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RateLimiterTimeoutError(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
