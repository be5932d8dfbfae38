/**
 * `usage` on /v1/check, counted inside workerd with the bundled tokenizers. Expected figures are
 * tiktoken's (the golden tests in src/tokens/count.test.ts compare the two on many more texts).
 * The test project runs with TOKEN_USAGE=quota (vitest.config.ts), so keys here carry a
 * token_limit; the first count in this file loads both tokenizers (seconds under vite).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { check, createKey } from './helpers';

let key: string;
beforeAll(async () => {
  ({ key } = await createKey({
    name: 'tokens',
    policy: {
      models: ['*'],
      rate_limit: { limit: 1000, window_s: 60 },
      token_limit: { tokens: 10_000_000, window_s: 60 },
    },
  }));
  // Load both encodings once, outside the tests' own timeouts.
  for (const model of ['gpt-4', 'gpt-4o']) {
    expect((await check(key, { model, operation: 'chat', input: 'warm' })).status).toBe(200);
  }
}, 120_000);

async function usage(body: Record<string, unknown>): Promise<unknown> {
  const res = await check(key, { operation: 'chat', ...body });
  expect(res.status).toBe(200);
  return ((await res.json()) as { usage: unknown }).usage;
}

const TEXT = 'Summarise the quarterly report for Kari Nordmann.';

describe('usage on /v1/check', () => {
  it('counts a gpt-4 prompt with cl100k_base', async () => {
    expect(await usage({ model: 'gpt-4', input: TEXT })).toEqual({
      input_tokens: 12,
      tokenizer: 'cl100k_base',
    });
  });

  it('counts a gpt-4o prompt with o200k_base', async () => {
    expect(await usage({ model: 'gpt-4o', input: TEXT })).toEqual({
      input_tokens: 11,
      tokenizer: 'o200k_base',
    });
  });

  it('counts chat input with the per-message framing OpenAI bills', async () => {
    const input = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', name: 'kari', content: 'Hei, hvordan går det?' },
    ];
    expect(await usage({ model: 'gpt-4o-mini', input })).toEqual({
      input_tokens: 22,
      tokenizer: 'o200k_base',
    });
  });

  it('counts an answer as output tokens', async () => {
    const output = { role: 'assistant', content: 'Det går bra, takk.' };
    expect(await usage({ model: 'gpt-4o', output })).toEqual({
      output_tokens: 6,
      tokenizer: 'o200k_base',
    });
  });

  it('says when the count is an estimate', async () => {
    // o200k_base counts 11; the Claude family factor is 1.05, rounded up.
    expect(await usage({ model: 'claude-sonnet-4-5', input: TEXT })).toEqual({
      input_tokens: 12,
      tokenizer: 'estimate',
    });
  });

  it('reports no usage for a key without a token_limit under TOKEN_USAGE=quota', async () => {
    const plain = await createKey({ name: 'plain' });
    const res = await check(plain.key, { model: 'gpt-4', operation: 'chat', input: TEXT });
    expect(res.status).toBe(200);
    expect(await res.json()).not.toHaveProperty('usage');
  });

  it('counts a blocked input too, and a literal special token as text', async () => {
    const res = await check(key, {
      model: 'gpt-4o',
      operation: 'chat',
      input: 'fnr 01010012356 <|endoftext|>',
    });
    const d = (await res.json()) as { allowed: boolean; usage: { input_tokens: number } };
    expect(d.allowed).toBe(false);
    expect(d.usage.input_tokens).toBeGreaterThan(5);
  });
});
