import { describe, expect, it } from 'vitest';
import { chargeTokens } from './token-bucket';

const rule = { tokens: 1000, window_s: 60 };
const T0 = 1_700_000_000_000;

describe('chargeTokens', () => {
  it('admits up to the quota in one burst, then refuses with the wait for that size', () => {
    let s = chargeTokens(rule, null, 600, T0);
    expect(s.decision).toMatchObject({ allowed: true, remaining: 400 });
    s = chargeTokens(rule, s.state, 400, T0);
    expect(s.decision).toMatchObject({ allowed: true, remaining: 0, reset_s: 60 });
    const refused = chargeTokens(rule, s.state, 100, T0);
    // 1000 tokens per 60 s: 100 tokens refill in 6 s.
    expect(refused.decision).toMatchObject({ allowed: false, too_large: false, retry_after_s: 6 });
    expect(refused.state).toBe(s.state);
    expect(chargeTokens(rule, s.state, 100, T0 + 6000).decision.allowed).toBe(true);
    expect(chargeTokens(rule, s.state, 100, T0 + 5999).decision.allowed).toBe(false);
  });

  it('refuses a request larger than the whole quota at once, without charging', () => {
    const r = chargeTokens(rule, null, 1001, T0);
    expect(r.decision).toMatchObject({ allowed: false, too_large: true, retry_after_s: 0 });
    expect(r.state).toBeNull();
  });

  it('keeps the tokens counted when the quota changes (applies on the next charge)', () => {
    const used = chargeTokens(rule, null, 900, T0).state;
    expect(chargeTokens({ tokens: 2000, window_s: 60 }, used, 1100, T0).decision.allowed).toBe(
      true,
    );
    expect(chargeTokens({ tokens: 1000, window_s: 60 }, used, 101, T0).decision.allowed).toBe(
      false,
    );
    expect(chargeTokens({ tokens: 500, window_s: 60 }, used, 1, T0).decision.allowed).toBe(false);
  });

  it('stays exact at the largest quota the policy allows', () => {
    const big = { tokens: 100_000_000, window_s: 86_400 };
    const s = chargeTokens(big, null, 100_000_000 - 1, T0);
    expect(s.decision).toMatchObject({ allowed: true, remaining: 1 });
    expect(chargeTokens(big, s.state, 1, T0).decision.allowed).toBe(true);
    expect(chargeTokens(big, s.state, 2, T0).decision.allowed).toBe(false);
  });
});
