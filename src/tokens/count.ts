/**
 * Token counting for /v1/check: the checked text counted as the target model counts it
 * (models.ts picks the tokenizer), with OpenAI's per-message chat framing for chat input.
 *
 * The BPE tables (o200k_base ≈ 1 MB gzipped, cl100k_base ≈ 0.45 MB) are imported on first use
 * and kept for the isolate's life: routes that never count (health, metrics, admin, a request
 * refused before counting) never load them, and an isolate that only sees gpt-4 never loads
 * o200k_base. What is counted: every text segment the detectors scan (src/governance/content.ts)
 * — message text, `name`, refusals, tool-call arguments, tool results; not images, audio or files
 * (their token cost depends on the provider's own rules) and not tool definitions.
 */
import type { Segment } from '../governance/content';
import type { Direction } from '../governance/types';
import { countingFor, type Counting, type Encoding, type TokenizerName } from './models';

export interface Usage {
  /** Tokens of the checked input (input checks) or answer (output checks). */
  tokens: number;
  tokenizer: TokenizerName;
}

type Counter = (text: string) => number;

/**
 * Longest run of non-space characters counted in one piece. BPE merges within a pre-tokenised
 * piece cost time quadratic in its length (gpt-tokenizer: 100,000 × `東` takes minutes), and a
 * piece never spans whitespace, so longer runs (CJK without spaces, base64, minified JSON) are
 * counted in pieces of this many UTF-16 units. Text without such runs is counted exactly; with
 * them the count is slightly high (measured ≤ 0.5 %, docs/tokens.md "Long runs").
 */
export const MAX_RUN = 400;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}`, 'g');

/** `count(text)`, with runs longer than MAX_RUN counted piece by piece. */
export function countText(count: Counter, text: string): number {
  if (text.length <= MAX_RUN) return count(text);
  let n = 0;
  let last = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    n += count(text.slice(last, m.index));
    const run = m[0];
    for (let i = 0; i < run.length; ) {
      let j = Math.min(run.length, i + MAX_RUN);
      // Never cut a surrogate pair.
      const c = run.charCodeAt(j - 1);
      if (j < run.length && c >= 0xd800 && c <= 0xdbff) j--;
      n += count(run.slice(i, j));
      i = j;
    }
    last = m.index + run.length;
  }
  return n + count(text.slice(last));
}

/**
 * User text is counted as text: a literal `<|endoftext|>` in a prompt is the tokens of those
 * characters, as the providers' APIs treat it (and never an exception).
 */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

const loaders: Record<Encoding, () => Promise<Counter>> = {
  o200k_base: async () => {
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    return (text) => countTokens(text, AS_TEXT);
  },
  cl100k_base: async () => {
    const { countTokens } = await import('gpt-tokenizer/encoding/cl100k_base');
    return (text) => countTokens(text, AS_TEXT);
  },
};

const counters = new Map<Encoding, Promise<Counter>>();

/** The encoding's counter, loaded once per isolate (a failed load is retried next time). */
export function counter(encoding: Encoding): Promise<Counter> {
  let c = counters.get(encoding);
  if (!c) {
    c = loaders[encoding]();
    counters.set(encoding, c);
    c.catch(() => counters.delete(encoding));
  }
  return c;
}

/**
 * Tokens of a checked value. `segments` are the value's text segments (in order); `value` is the
 * checked value itself, read only for the role of each top-level message.
 */
export async function countUsage(
  model: string,
  direction: Direction,
  value: unknown,
  segments: readonly Segment[],
): Promise<Usage> {
  const counting = countingFor(model);
  const count = await counter(counting.encoding);
  const raw = countRaw(counting, count, direction, value, segments);
  return { tokens: Math.ceil(raw * counting.factor), tokenizer: counting.tokenizer };
}

/** The count before the estimate's factor. Exported for the golden tests. */
export function countRaw(
  counting: Pick<Counting, 'chat'>,
  count: Counter,
  direction: Direction,
  value: unknown,
  segments: readonly Segment[],
): number {
  let n = 0;
  for (const s of segments) n += countText(count, s.text);
  // A string is counted as it is; an answer is billed as its content tokens (completion tokens
  // carry no per-message framing). Chat input pays the framing of every message, as billed.
  const chat = counting.chat;
  if (direction === 'output' || !Array.isArray(value) || !chat) return n;
  for (const item of value) {
    n += chat.perMessage;
    const m = item as { role?: unknown; name?: unknown };
    if (typeof m.role === 'string') n += countText(count, m.role);
    if (typeof m.name === 'string' && m.name.length > 0) n += chat.perName;
  }
  return n + chat.perReply;
}
