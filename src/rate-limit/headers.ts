/**
 * Rate-limit response headers (docs/rate-limit.md#headers-and-body): `RateLimit-Policy` and
 * `RateLimit` of draft-ietf-httpapi-ratelimit-headers-11 — Structured Field Lists of items whose
 * value is the policy name (an sf-string) — plus the legacy `X-RateLimit-*`, which keep describing
 * the request quota.
 *
 * A key with a `token_limit` has two policies, `"requests"` and `"tokens"`; both are listed in
 * `RateLimit-Policy` on every response. `RateLimit` carries a member for a policy only when this
 * response has that quota's current figures: the request quota always (lease, object, deny cache
 * or failure policy), the token quota only when the key's object charged or refused this request's
 * tokens. With two policies listed, the member of the *binding* policy carries the vendor
 * parameter `vakt-binding` (the draft's way for implementation parameters; clients that do not
 * know it ignore it): the policy that refused this request, or, when it was admitted, the one that
 * admits fewer further requests like it. Pure: the check route calls it with its decisions.
 */
import type { RateLimitDecision, RateLimitRule } from './gcra';
import type { TokenDecision, TokenRule } from './token-bucket';

export type PolicyName = 'requests' | 'tokens';

/** The vendor-prefixed boolean parameter that marks the binding policy's `RateLimit` member. */
export const BINDING_PARAM = 'vakt-binding';

export interface RateLimitHeaderInput {
  rule: RateLimitRule;
  /** The request quota's decision for this request. */
  decision: RateLimitDecision;
  /** The key's token quota, when its policy has a `token_limit`. */
  tokens?: {
    rule: TokenRule;
    /**
     * The quota after this request's charge, as the object answered it (a `TokenDecision`, or a
     * usage charge's figures); null when the object decided no charge for this request.
     */
    decision: Pick<TokenDecision, 'remaining' | 'reset_s'> | null;
    /** This request's input tokens: the cost of a further request like it. */
    cost: number;
  };
  /** The quota that refused this request (429, or 413 for tokens); undefined when none did. */
  refusedBy?: PolicyName;
}

export function rateLimitHeaders(input: RateLimitHeaderInput): Record<string, string> {
  const { rule, decision: d, tokens } = input;
  // Plain concatenation: this runs on every /v1/check, the 429s of a key over quota included.
  let policy = `"requests";q=${rule.limit};w=${rule.window_s}`;
  let state = `"requests";r=${d.remaining};t=${d.reset_s}`;
  if (tokens) {
    const binding = bindingPolicy(input);
    if (binding === 'requests') state += `;${BINDING_PARAM}`;
    // `qu`: without it a client reads the quota as requests (the draft's default unit).
    policy += `, "tokens";q=${tokens.rule.tokens};qu="tokens";w=${tokens.rule.window_s}`;
    const t = tokens.decision;
    if (t) {
      state += `, "tokens";r=${t.remaining};t=${t.reset_s}`;
      if (binding === 'tokens') state += `;${BINDING_PARAM}`;
    }
  }
  return {
    'RateLimit-Policy': policy,
    RateLimit: state,
    'X-RateLimit-Limit': String(d.limit),
    'X-RateLimit-Remaining': String(d.remaining),
    'X-RateLimit-Reset': String(d.reset_s),
  };
}

/**
 * Which policy binds: the one that refused; else, with both quotas' figures at hand, the one that
 * admits fewer further requests of this request's size (requests: `r`; tokens: `⌊r / cost⌋`),
 * the request quota on a tie; else none can be named.
 */
export function bindingPolicy(input: RateLimitHeaderInput): PolicyName | undefined {
  if (input.refusedBy) return input.refusedBy;
  const t = input.tokens?.decision;
  if (!t) return undefined;
  const byTokens = Math.floor(t.remaining / Math.max(1, input.tokens?.cost ?? 1));
  return byTokens < input.decision.remaining ? 'tokens' : 'requests';
}
