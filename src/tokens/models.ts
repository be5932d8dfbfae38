/**
 * Which tokenizer counts a model's tokens (docs/tokens.md). OpenAI publishes its encodings, so
 * OpenAI model families are counted exactly; every other family has no public tokenizer for its
 * current models and gets the documented estimate: the o200k_base count times a per-family factor
 * measured against the nearest public tokenizer (scripts/token-estimate.mjs,
 * src/tokens/estimate.test.ts).
 */

export const TOKENIZERS = ['o200k_base', 'cl100k_base', 'estimate'] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];
/** The BPE encodings vakt ships (lazily loaded, src/tokens/count.ts). */
export type Encoding = Exclude<TokenizerName, 'estimate'>;

/** How a model's tokens are counted. */
export interface Counting {
  tokenizer: TokenizerName;
  /** The encoding that does the counting (the estimate counts with o200k_base too). */
  encoding: Encoding;
  /** Multiplier applied to the encoding's count (1 for exact tokenizers), rounded up. */
  factor: number;
  /** Chat framing per message and per reply, as the provider bills it (null: none known). */
  chat: ChatFraming | null;
}

/** OpenAI's chat framing (openai-cookbook "How to count tokens with tiktoken"). */
export interface ChatFraming {
  /** Tokens per message for `<|start|>{role}…<|end|>`, besides the role's own tokens. */
  perMessage: number;
  /** Extra tokens when a message carries `name`. */
  perName: number;
  /** Every reply is primed with `<|start|>assistant<|message|>`. */
  perReply: number;
}

const CHATML: ChatFraming = { perMessage: 3, perName: 1, perReply: 3 };
/** gpt-3.5-turbo-0301 framed messages differently (retired, but still named by old clients). */
const CHATML_0301: ChatFraming = { perMessage: 4, perName: -1, perReply: 2 };

/**
 * Model-name patterns, first match wins (`gpt-4o` before `gpt-4`). A `provider/` prefix
 * (`openai/gpt-4o`, `azure/gpt-4.1`) is ignored; matching is case-insensitive.
 */
const EXACT: ReadonlyArray<[RegExp, Encoding]> = [
  [/^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4|codex-)/, 'o200k_base'],
  [/^(?:gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)/, 'cl100k_base'],
];

/**
 * Estimate factors per family: the o200k_base count is multiplied by these (docs/tokens.md
 * "Estimate" has the measured error of each). Families without a public reference use 1.
 */
export const ESTIMATE_FACTORS: ReadonlyArray<[RegExp, number]> = [
  [/^gemini|^gemma/, 1.3],
  [/^claude/, 1.05],
];

/** How `model`'s tokens are counted. */
export function countingFor(model: string): Counting {
  const name = model.toLowerCase().replace(/^[a-z0-9_.-]+\//, '');
  for (const [pattern, encoding] of EXACT) {
    if (pattern.test(name)) {
      const chat = /^gpt-3\.5-turbo-0301/.test(name) ? CHATML_0301 : CHATML;
      return { tokenizer: encoding, encoding, factor: 1, chat };
    }
  }
  const factor = ESTIMATE_FACTORS.find(([p]) => p.test(name))?.[1] ?? 1;
  return { tokenizer: 'estimate', encoding: 'o200k_base', factor, chat: CHATML };
}
