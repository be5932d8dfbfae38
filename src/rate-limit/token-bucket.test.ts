import { describe, expect, it } from 'vitest';
import { chargeTokens, chargeUsage, maxDebtUnits } from './token-bucket';

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

describe('chargeUsage (reported output tokens)', () => {
  it('charges past the quota; requests are refused until the debt drains below quota − size', () => {
    let s = chargeTokens(rule, null, 900, T0).state;
    const u = chargeUsage(rule, s, 300, T0);
    // 900 + 300 = 1200 of 1000: 200 tokens of overdraft, nothing forgiven.
    expect(u.charge).toMatchObject({ remaining: 0, overdraft: 200, forgiven: 0, reset_s: 72 });
    s = u.state;
    // A 100-token request needs the debt at ≤ 900 tokens: 300 tokens of decay = 18 s.
    const refused = chargeTokens(rule, s, 100, T0);
    expect(refused.decision).toMatchObject({ allowed: false, remaining: 0, retry_after_s: 18 });
    expect(chargeTokens(rule, s, 100, T0 + 17_999).decision.allowed).toBe(false);
    expect(chargeTokens(rule, s, 100, T0 + 18_000).decision).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    // Still in debt 12 s in (200 → 0 overdraft after 12 s), so nothing remains until then.
    expect(chargeTokens(rule, s, 0, T0 + 11_000).decision.remaining).toBe(0);
    expect(chargeTokens(rule, s, 0, T0 + 12_000 + 6_000).decision.remaining).toBe(100);
  });

  it('caps the debt at one window beyond the quota and says how much it forgave', () => {
    const u = chargeUsage(rule, null, 5000, T0);
    expect(u.charge).toMatchObject({ overdraft: 1000, forgiven: 3000, reset_s: 120 });
    // A further report while at the cap adds nothing.
    const again = chargeUsage(rule, u.state, 10, T0);
    expect(again.charge).toMatchObject({ overdraft: 1000, forgiven: 10 });
    // A 1-token request fits once the debt is down to 999 tokens: 1001 tokens × 60 ms later.
    expect(chargeTokens(rule, u.state, 1, T0 + 60_060).decision.allowed).toBe(true);
    expect(chargeTokens(rule, u.state, 1, T0 + 60_059).decision.allowed).toBe(false);
  });

  it('charges nothing for 0 tokens and keeps a debt through a quota change', () => {
    expect(chargeUsage(rule, null, 0, T0).state).toBeNull();
    const u = chargeUsage(rule, null, 1500, T0).state;
    // 1500 tokens still counted under a 3000-token quota: 1500 remain at once.
    expect(chargeTokens({ tokens: 3000, window_s: 60 }, u, 0, T0).decision.remaining).toBe(1500);
    // Under a lowered quota the debt is clamped to that quota's cap (2 × 500).
    const lowered = chargeUsage({ tokens: 500, window_s: 60 }, u, 0, T0);
    expect(lowered.charge).toMatchObject({ overdraft: 500, reset_s: 120 });
  });

  it('stays below 2^53 at the largest quota and with any reported size', () => {
    const big = { tokens: 100_000_000, window_s: 86_400 };
    // Some overdraft (~1 M tokens) even here, and the bound leaves room below 2^53.
    expect(maxDebtUnits(big) - 86_400_000 * 1e8).toBeGreaterThan(86_400_000 * 9e5);
    expect(maxDebtUnits(big)).toBeLessThan(Number.MAX_SAFE_INTEGER);
    const u = chargeUsage(big, null, Number.MAX_SAFE_INTEGER, T0);
    expect(u.charge.remaining).toBe(0);
    expect(u.charge.overdraft).toBeGreaterThan(0);
    expect(Number.isSafeInteger(u.state!.tat_ms)).toBe(true);
    const next = chargeTokens(big, u.state, 1, T0);
    expect(next.decision.allowed).toBe(false);
    expect(Number.isSafeInteger(next.decision.retry_after_s)).toBe(true);
  });
});
