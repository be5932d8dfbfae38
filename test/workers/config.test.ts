import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';

describe('configuration', () => {
  it('answers 503 naming the bad setting when DEFAULT_POLICY is invalid', async () => {
    const ctx = createExecutionContext();
    const badEnv = { ...env, DEFAULT_POLICY: { models: [] } };
    const res = await app.fetch(new Request('https://vakt.test/health'), badEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toContain('/DEFAULT_POLICY/models');
  });

  it('accepts DEFAULT_POLICY as a JSON string (as set by `wrangler secret`/dashboard)', async () => {
    const ctx = createExecutionContext();
    const policy = { ...(env.DEFAULT_POLICY as object), max_input_chars: 5 };
    const res = await app.fetch(
      new Request('https://vakt.test/health'),
      { ...env, DEFAULT_POLICY: JSON.stringify(policy) },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
  });

  it.each([
    ['personal data', 'kari.nordmann@example.no', /personal data/],
    ['a long digit run', 'gpt-01010012356', /personal data/],
    ['a reserved label value', 'external-model', /reserved/],
    ['characters outside the identifier set', 'gpt 4', /letters, digits/],
  ])(
    'refuses a KNOWN_MODELS entry with %s (entries are public metric label values)',
    async (_what, entry, message) => {
      const ctx = createExecutionContext();
      const badEnv = { ...env, KNOWN_MODELS: { patterns: ['gpt-*', entry] } };
      const res = await app.fetch(new Request('https://vakt.test/health'), badEnv, ctx);
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).not.toContain('kari.nordmann');
      const body = JSON.parse(text) as { errors: { path: string; message: string }[] };
      expect(body.errors).toEqual([
        { path: '/KNOWN_MODELS/patterns/1', message: expect.stringMatching(message) },
      ]);
    },
  );
});
