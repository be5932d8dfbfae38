/**
 * Golden set: vakt's counts equal the reference tokenizer's — OpenAI's tiktoken (its Rust core,
 * compiled to WebAssembly, npm `tiktoken`) — for strings and chat input, per encoding; chat
 * framing as the OpenAI cookbook counts it, anchored on the prompt-token counts the OpenAI API
 * reported for the cookbook's example (129 for gpt-4-0613 / gpt-3.5-turbo, 124 for gpt-4o).
 */
import { get_encoding, type Tiktoken } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { GOLDEN } from '../../test/fixtures/chat-golden';
import { inputSegments, outputSegments } from '../governance/content';
import { countRaw, countText, countUsage, counter, MAX_RUN } from './count';
import { countingFor, type Encoding } from './models';

const refs = new Map<Encoding, Tiktoken>();
const ref = (e: Encoding) => {
  let t = refs.get(e);
  if (!t) refs.set(e, (t = get_encoding(e)));
  return t;
};
// Special-token strings in user text are text: tiktoken's encode(text, allowed=[], disallowed=[]).
const refCount = (e: Encoding, text: string) => ref(e).encode(text, [], []).length;
afterAll(() => refs.forEach((t) => t.free()));

const ENCODINGS: Encoding[] = ['o200k_base', 'cl100k_base'];

/** Strings chosen for what BPE pre-tokenisation treats specially. */
const STRINGS: Record<string, string> = {
  empty: '',
  english: 'The quick brown fox jumps over the lazy dog. It was not amused!',
  norwegian: 'Søknaden fra Kari Nordmann i Storgata 1, 0155 Oslo, ble behandlet på fredag.',
  'numbers and ids': 'fnr 01056566224, kontonummer 1234.56.78903, tlf +47 912 34 567, 3.14159e10',
  contractions: "I'm sure they'll say it's what we'd've done, DON'T YOU'RE",
  whitespace: 'a  b\t\tc\n\n\nd   \r\n  e    ',
  code: 'export function f(x: number): number {\n  return x ** 2 + 1; // square\n}\n',
  json: '{"a":[1,2,{"b":"c\\u00e6"}],"d":null,"e":true}',
  unicode: 'Ærlig talt — naïve café, 東京, Привет, مرحبا, नमस्ते',
  emoji: '👍🏽 family: 👨‍👩‍👧‍👦 flags 🇳🇴🇸🇪 and ✨',
  'special tokens as text': 'Ignore <|endoftext|> and <|im_start|>system<|im_end|> <|fim_prefix|>',
  'long words': 'Supercalifragilisticexpialidocious '.repeat(20),
  'a 400-character run': 'ab1='.repeat(100),
  'lone surrogate': 'a\uD800b',
};

describe('string counts equal tiktoken', () => {
  for (const encoding of ENCODINGS) {
    it.each(Object.entries(STRINGS))(`${encoding}: %s`, async (_name, text) => {
      const count = await counter(encoding);
      expect(count(text)).toBe(refCount(encoding, text));
    });
  }

  it('a 100 KB mixed document counts the same (o200k_base and cl100k_base)', async () => {
    const doc = Object.values(STRINGS).join('\n').repeat(150).slice(0, 100_000);
    for (const encoding of ENCODINGS) {
      expect((await counter(encoding))(doc)).toBe(refCount(encoding, doc));
    }
  });
});

describe('runs longer than MAX_RUN (docs/tokens.md "Long runs")', () => {
  const base64 = btoa(
    String.fromCharCode(...Array.from({ length: 30_000 }, (_, i) => (i * 2654435761) % 256)),
  );
  const ja =
    '東京都は日本の首都であり、世界有数の大都市です。人口は約千四百万人で、経済、文化、政治の中心地として知られています。'.repeat(
      300,
    );
  const zh =
    '北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有着三千多年的建城史。'.repeat(
      300,
    );
  const minified = JSON.stringify(
    Array.from({ length: 400 }, (_, i) => ({ id: `p${i}`, case: 'email/plain', n: i * 37 })),
  );
  const url = 'https://example.com/' + 'a1b2c3d4e5/'.repeat(2000);

  it.each([
    { name: 'base64', text: base64 },
    { name: 'Japanese', text: ja },
    { name: 'Chinese', text: zh },
    { name: 'minified JSON', text: minified },
    { name: 'a long URL', text: url },
  ])('$name: at most 1 % above tiktoken, never below', async ({ text }) => {
    expect(text.length).toBeGreaterThan(MAX_RUN * 10);
    for (const encoding of ENCODINGS) {
      const ours = countText(await counter(encoding), text);
      const exact = refCount(encoding, text);
      expect(ours).toBeGreaterThanOrEqual(exact);
      expect((ours - exact) / exact).toBeLessThanOrEqual(0.01);
    }
  });

  it('a hostile 100,000-character run takes milliseconds, not minutes', async () => {
    const count = await counter('o200k_base');
    const started = performance.now();
    // One token per character here; tiktoken itself takes minutes on this string.
    expect(countText(count, '東'.repeat(100_000))).toBe(100_000);
    const x1000 = refCount('o200k_base', 'x'.repeat(1_000));
    expect(countText(count, 'x'.repeat(100_000))).toBe(x1000 * 100);
    // Unsplit, the first alone takes minutes in gpt-tokenizer (quadratic merges).
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

/** The cookbook's reference: per message 3 + tokens of each field value, +1 for `name`; +3. */
function cookbook(encoding: Encoding, messages: Array<Record<string, string>>): number {
  let n = 3;
  for (const m of messages) {
    n += 3;
    for (const [k, v] of Object.entries(m)) n += refCount(encoding, v) + (k === 'name' ? 1 : 0);
  }
  return n;
}

const COOKBOOK: Array<Record<string, string>> = [
  {
    role: 'system',
    content:
      'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
  },
  {
    role: 'system',
    name: 'example_user',
    content: 'New synergies will help drive top-line growth.',
  },
  {
    role: 'system',
    name: 'example_assistant',
    content: 'Things working well together will increase revenue.',
  },
  {
    role: 'system',
    name: 'example_user',
    content:
      "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
  },
  {
    role: 'system',
    name: 'example_assistant',
    content: "Let's talk later when we're less busy about how to do better.",
  },
  {
    role: 'user',
    content:
      "This late pivot means we don't have time to boil the ocean for the client deliverable.",
  },
];

describe('chat input counts as OpenAI bills it', () => {
  it.each([
    ['gpt-4-0613', 'cl100k_base', 129],
    ['gpt-3.5-turbo', 'cl100k_base', 129],
    ['gpt-4o', 'o200k_base', 124],
    ['gpt-4o-mini', 'o200k_base', 124],
  ] as const)('%s: the cookbook example is %s, %i prompt tokens', async (model, enc, billed) => {
    const usage = await countUsage(model, 'input', COOKBOOK, inputSegments(COOKBOOK).segments);
    expect(usage).toEqual({ tokens: billed, tokenizer: enc });
    expect(cookbook(enc, COOKBOOK)).toBe(billed);
  });

  it.each(ENCODINGS)('%s: multilingual chat with names equals the cookbook count', async (enc) => {
    const messages: Array<Record<string, string>> = [
      { role: 'developer', content: STRINGS.unicode! },
      { role: 'user', name: 'kari', content: STRINGS.norwegian! },
      { role: 'assistant', content: STRINGS['special tokens as text']! },
      { role: 'user', content: STRINGS.emoji! },
    ];
    const count = await counter(enc);
    const chat = countingFor(enc === 'o200k_base' ? 'gpt-4.1' : 'gpt-4').chat;
    const segments = inputSegments(messages).segments;
    expect(countRaw({ chat }, count, 'input', messages, segments)).toBe(cookbook(enc, messages));
  });

  it('content parts count their text parts; images and audio count nothing', async () => {
    const parts = GOLDEN.openaiChat!.value as unknown[];
    const usage = await countUsage('gpt-4o', 'input', parts, inputSegments(parts).segments);
    // Reference: the cookbook framing over the texts the request carries, as one message each.
    const texts = inputSegments(parts).segments.map((s) => s.text);
    const roles = (parts as Array<{ role: string; name?: string }>).map((m) => m);
    const expected =
      3 +
      roles.reduce((n, m) => n + 3 + refCount('o200k_base', m.role) + (m.name ? 1 : 0), 0) +
      texts.reduce((n, t) => n + refCount('o200k_base', t), 0);
    expect(usage.tokens).toBe(expected);
  });

  it('an answer is billed as its content tokens (no framing)', async () => {
    const answer = { role: 'assistant', content: STRINGS.english! };
    const usage = await countUsage('gpt-4o', 'output', answer, outputSegments(answer).segments);
    expect(usage).toEqual({
      tokens: refCount('o200k_base', STRINGS.english!),
      tokenizer: 'o200k_base',
    });
  });
});

describe('tokenizer by model', () => {
  it.each([
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini-2024-07-18', 'o200k_base'],
    ['chatgpt-4o-latest', 'o200k_base'],
    ['gpt-4.1-nano', 'o200k_base'],
    ['gpt-5', 'o200k_base'],
    ['o1-mini', 'o200k_base'],
    ['o3', 'o200k_base'],
    ['o4-mini', 'o200k_base'],
    ['openai/gpt-4o', 'o200k_base'],
    ['GPT-4O', 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo-2024-04-09', 'cl100k_base'],
    ['gpt-3.5-turbo', 'cl100k_base'],
    ['azure/gpt-35-turbo', 'cl100k_base'],
    ['text-embedding-3-small', 'cl100k_base'],
    ['claude-sonnet-4-5', 'estimate'],
    ['gemini-2.5-pro', 'estimate'],
    ['llama-3.1-70b', 'estimate'],
    ['mistral-large', 'estimate'],
  ])('%s → %s', (model, tokenizer) => {
    expect(countingFor(model).tokenizer).toBe(tokenizer);
  });

  it('an estimate says so and applies its family factor, rounded up', async () => {
    const text = STRINGS.english!;
    const o200k = refCount('o200k_base', text);
    const segments = inputSegments(text).segments;
    expect(await countUsage('gemini-2.5-pro', 'input', text, segments)).toEqual({
      tokens: Math.ceil(o200k * 1.3),
      tokenizer: 'estimate',
    });
    expect((await countUsage('mistral-large', 'input', text, segments)).tokens).toBe(o200k);
  });
});
