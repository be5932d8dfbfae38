/**
 * Malformed chat shapes, fuzzed through the real /v1/check route: a valid real-shaped body with
 * one mutation (a field replaced by a value of another type, a discriminator changed, a key
 * deleted) must give 200 (when the mutation is still valid, e.g. in a tolerated extra field) or a
 * 400 whose error names exactly the mutated place — never a 5xx. Arbitrary JSON as `input` and
 * `output` must never give a 5xx either. Fixed seeds: a failure is reproducible.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { check, createKey } from './helpers';
import { applyMutation, GOLDEN, mutation, places, pointer, setAt } from '../fixtures/chat-golden';

interface Problem {
  status: number;
  errors?: Array<{ path: string; message: string }>;
}

describe('fuzzed malformed chat shapes', () => {
  let key: string;
  beforeAll(async () => {
    // A quota the fuzzing cannot exhaust.
    key = (
      await createKey({ name: 'fuzz', policy: { rate_limit: { limit: 100_000, window_s: 60 } } })
    ).key;
  });

  it('answers 200 or a 400 naming the mutated place, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const mutated = applyMutation(m);
        if (!mutated) return;
        const res = await check(key, {
          model: 'gpt-4',
          operation: 'chat',
          [mutated.field]: mutated.value,
        });
        expect([200, 400]).toContain(res.status);
        if (res.status !== 400) return;
        const p = (await res.json()) as Problem;
        expect(p.errors?.length).toBeGreaterThan(0);
        for (const e of p.errors!) expect(mutated.accepts(e.path), JSON.stringify(e)).toBe(true);
      }),
      { numRuns: 100, seed: 14 },
    );
  }, 60_000);

  it('refuses a changed discriminator at its exact pointer', async () => {
    for (const [name, g] of Object.entries(GOLDEN)) {
      // Every discriminator vakt reads (a skipped part's `source.type` is not one of them).
      const discriminators = places(g.value).filter(
        (p) => (p.path.at(-1) === 'type' || p.path.at(-1) === 'role') && !p.path.includes('source'),
      );
      for (const t of discriminators) {
        const value = setAt(g.value, t.path, 'bogus');
        const res = await check(key, { model: 'gpt-4', operation: 'chat', [g.field]: value });
        expect(res.status, `${name} ${pointer(t.path)}`).toBe(400);
        const p = (await res.json()) as Problem;
        expect(p.errors, `${name} ${pointer(t.path)}`).toEqual([
          { path: `/${g.field}${pointer(t.path)}`, message: expect.stringMatching(/^expected/) },
        ]);
      }
    }
  }, 60_000);

  it('never answers 5xx to arbitrary JSON as input or output', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('input', 'output'),
        fc.jsonValue({ maxDepth: 4 }),
        async (field, value) => {
          const res = await check(key, { model: 'gpt-4', operation: 'chat', [field]: value });
          expect([200, 400]).toContain(res.status);
        },
      ),
      { numRuns: 60, seed: 1414 },
    );
  }, 60_000);
});
