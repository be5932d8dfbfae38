import { describe, expect, it } from 'vitest';
import {
  actionFor,
  canonicalJson,
  globMatch,
  mergePolicy,
  policyFor,
  PolicyOverrideSchema,
  PolicySchema,
  policyVersion,
  type Policy,
} from './policy';

const base: Policy = {
  models: ['gpt-4*'],
  operations: ['classify'],
  detectors: { email: 'redact' },
  default_detector_action: 'block',
  secrets_action: 'block',
  max_input_chars: 1000,
  rate_limit: { limit: 10, window_s: 60 },
};

describe('globMatch', () => {
  it.each([
    ['gpt-4*', 'gpt-4', true],
    ['gpt-4*', 'GPT-4o-mini', true],
    ['gpt-4*', 'gpt-3.5', false],
    ['*', 'anything', true],
    ['claude-*-sonnet', 'claude-3-5-sonnet', true],
    ['claude-*-sonnet', 'claude-3-opus', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('%s vs %s → %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it('stays linear on adversarial patterns', () => {
    const pattern = '*a'.repeat(50) + 'b';
    const value = 'a'.repeat(10_000);
    // Would take astronomically long with naive backtracking; the two-pointer matcher is O(n·m).
    expect(globMatch(pattern, value)).toBe(false);
  });
});

describe('policies', () => {
  it('merges overrides field by field', () => {
    const merged = mergePolicy(base, { rate_limit: { limit: 2 }, detectors: { phone: 'allow' } });
    expect(merged.rate_limit).toEqual({ limit: 2, window_s: 60 });
    expect(merged.detectors).toEqual({ email: 'redact', phone: 'allow' });
    expect(merged.models).toBe(base.models);
  });

  it('gives detector actions from the override, else the category default', () => {
    expect(actionFor(base, 'email')).toBe('redact');
    expect(actionFor(base, 'no_fodselsnummer')).toBe('block');
    expect(actionFor({ ...base, secrets_action: 'redact' }, 'secret_jwt')).toBe('redact');
  });

  it('has a version that ignores key order and changes with content', async () => {
    const reordered = JSON.parse(canonicalJson(base)) as Policy;
    const shuffled: Policy = {
      rate_limit: reordered.rate_limit,
      max_input_chars: reordered.max_input_chars,
      secrets_action: reordered.secrets_action,
      default_detector_action: reordered.default_detector_action,
      detectors: reordered.detectors,
      operations: reordered.operations,
      models: reordered.models,
    };
    expect(await policyVersion(shuffled)).toBe(await policyVersion(base));
    expect(await policyVersion({ ...base, max_input_chars: 999 })).not.toBe(
      await policyVersion(base),
    );
  });

  it('gives output checks the output section over the input actions, merged per field', () => {
    const withOutput = mergePolicy(
      { ...base, output: { detectors: { phone: 'block' }, max_chars: 50 } },
      { output: { detectors: { email: 'block' } } },
    );
    expect(withOutput.output).toEqual({
      detectors: { phone: 'block', email: 'block' },
      max_chars: 50,
    });
    const out = policyFor(withOutput, 'output');
    expect(actionFor(out, 'email')).toBe('block');
    expect(actionFor(out, 'no_fodselsnummer')).toBe('block');
    expect(out.max_input_chars).toBe(50);
    expect(policyFor(withOutput, 'input')).toBe(withOutput);
    expect(actionFor(policyFor(base, 'output'), 'email')).toBe('redact');
  });

  it('keeps the version of a policy written before output sections existed', async () => {
    expect(await policyVersion(mergePolicy(base, {}))).toBe(await policyVersion(base));
    expect(canonicalJson(mergePolicy(base, { rate_limit: {} }))).not.toContain('output');
  });

  it('rejects unknown fields and bad values with paths', () => {
    const result = PolicySchema.safeParse({ ...base, max_input_chars: -1, colour: 'red' });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join('.') || '(root)');
    expect(paths).toEqual(expect.arrayContaining(['max_input_chars', '(root)']));
  });
});

describe('token_limit', () => {
  it.each([
    [{ tokens: 0, window_s: 60 }, ['tokens']],
    [{ tokens: 100_000_001, window_s: 60 }, ['tokens']],
    [{ tokens: 1.5, window_s: 60 }, ['tokens']],
    [{ tokens: 10, window_s: 0 }, ['window_s']],
    [{ tokens: 10, window_s: 86_401 }, ['window_s']],
    [{ tokens: 10 }, ['window_s']],
  ])('refuses %j, naming the field', (token_limit, path) => {
    const r = PolicySchema.safeParse({ ...base, token_limit });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toContainEqual(['token_limit', ...path]);
  });

  it('is optional, merged whole, and removed by an override of null', () => {
    const withQuota = { ...base, token_limit: { tokens: 1000, window_s: 60 } };
    expect(PolicySchema.parse(base).token_limit).toBeUndefined();
    expect(mergePolicy(withQuota, {}).token_limit).toEqual({ tokens: 1000, window_s: 60 });
    const o = PolicyOverrideSchema.parse({ token_limit: { tokens: 5, window_s: 1 } });
    expect(mergePolicy(withQuota, o).token_limit).toEqual({ tokens: 5, window_s: 1 });
    expect(
      mergePolicy(withQuota, PolicyOverrideSchema.parse({ token_limit: null })).token_limit,
    ).toBeUndefined();
  });

  it('keeps the version of policies without one', async () => {
    expect(await policyVersion(mergePolicy(base, {}))).toBe(await policyVersion(base));
  });
});
