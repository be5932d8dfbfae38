/** The header builder and the binding rule, without workerd (docs/rate-limit.md#headers-and-body). */
import { parseList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { bindingPolicy, rateLimitHeaders } from './headers';

describe('bindingPolicy', () => {
  const decision = (remaining: number) => ({
    allowed: true,
    limit: 10,
    remaining,
    reset_s: 1,
    retry_after_s: 0,
  });
  const tokens = (remaining: number, cost: number) => ({
    rule: { tokens: 1000, window_s: 60 },
    decision: { ...decision(remaining), too_large: false, limit: 1000 },
    cost,
  });
  const rule = { limit: 10, window_s: 60 };

  it.each([
    // [requests remaining, tokens remaining, this request's tokens, binding]
    [5, 400, 100, 'tokens'], // 4 more by tokens < 5 by requests
    [5, 500, 100, 'requests'], // 5 = 5: the tie goes to requests
    [5, 999, 100, 'requests'],
    [0, 0, 100, 'requests'],
    [3, 2, 0, 'tokens'], // a request of 0 tokens is costed as 1
  ] as const)('requests r=%i, tokens r=%i, cost %i → %s', (r, tr, cost, want) => {
    expect(bindingPolicy({ rule, decision: decision(r), tokens: tokens(tr, cost) })).toBe(want);
  });

  it('names the refusing policy, and none when the token figures are unknown', () => {
    const unknown = { ...tokens(0, 1), decision: null };
    expect(bindingPolicy({ rule, decision: decision(9), tokens: unknown })).toBeUndefined();
    expect(
      bindingPolicy({ rule, decision: decision(9), tokens: unknown, refusedBy: 'tokens' }),
    ).toBe('tokens');
    expect(
      bindingPolicy({ rule, decision: decision(0), tokens: tokens(999, 1), refusedBy: 'requests' }),
    ).toBe('requests');
  });
});

describe('rateLimitHeaders', () => {
  const d = { allowed: true, limit: 60, remaining: 59, reset_s: 1, retry_after_s: 0 };

  it('writes one "requests" policy for a key without a token quota, unmarked', () => {
    expect(rateLimitHeaders({ rule: { limit: 60, window_s: 60 }, decision: d })).toEqual({
      'RateLimit-Policy': '"requests";q=60;w=60',
      RateLimit: '"requests";r=59;t=1',
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '59',
      'X-RateLimit-Reset': '1',
    });
  });

  it('writes both policies and the binding mark as RFC 9651 Lists', () => {
    const h = rateLimitHeaders({
      rule: { limit: 60, window_s: 60 },
      decision: d,
      tokens: {
        rule: { tokens: 1000, window_s: 3600 },
        decision: { remaining: 100, reset_s: 3240 },
        cost: 50,
      },
    });
    expect(h['RateLimit-Policy']).toBe('"requests";q=60;w=60, "tokens";q=1000;qu="tokens";w=3600');
    expect(h.RateLimit).toBe('"requests";r=59;t=1, "tokens";r=100;t=3240;vakt-binding');
    expect(parseList(h.RateLimit!).map(([v, p]) => [v, Object.fromEntries(p)])).toEqual([
      ['requests', { r: 59, t: 1 }],
      ['tokens', { r: 100, t: 3240, 'vakt-binding': true }],
    ]);
    // The legacy headers describe the request quota only.
    expect(h['X-RateLimit-Remaining']).toBe('59');
  });
});
