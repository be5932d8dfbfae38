/**
 * The shapes of reported token usage (docs/tokens.md "Usage after the call"): a leaf module —
 * zod only — so the request schemas can import it without pulling in the charging code.
 */
import { z } from '@hono/zod-openapi';

/** The most tokens one report may carry (far above any model's context or output limit). */
export const MAX_REPORTED_TOKENS = 10_000_000;

export const ReportedTokens = z.number().int().min(0).max(MAX_REPORTED_TOKENS);

/**
 * An output check's `usage`: the provider's usage object as it came, in either naming —
 * `output_tokens`/`input_tokens` (Anthropic Messages, OpenAI Responses) or
 * `completion_tokens`/`prompt_tokens` (OpenAI Chat Completions). Other fields (`total_tokens`,
 * details) are ignored, never stored.
 */
export const OutputUsageSchema = z
  .object({
    output_tokens: ReportedTokens.optional(),
    input_tokens: ReportedTokens.optional(),
    completion_tokens: ReportedTokens.optional(),
    prompt_tokens: ReportedTokens.optional(),
  })
  .superRefine((u, ctx) => {
    const pairs = [
      ['output_tokens', 'completion_tokens'],
      ['input_tokens', 'prompt_tokens'],
    ] as const;
    for (const [a, b] of pairs) {
      if (u[a] !== undefined && u[b] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [b], message: `send \`${a}\` or \`${b}\`, not both` });
      }
    }
    if (u.output_tokens === undefined && u.completion_tokens === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['output_tokens'],
        message: 'required: `output_tokens` (or `completion_tokens`)',
      });
    }
  })
  .openapi('OutputUsage', {
    description:
      'With `output`: the tokens the call used, as the provider reported them — its `usage` object as is (`output_tokens`/`input_tokens`, or Chat Completions’ `completion_tokens`/`prompt_tokens`; other fields are ignored). The output tokens are charged to the key’s token quota once per `input_decision_id`, like POST /v1/usage. See docs/tokens.md.',
    example: { input_tokens: 42, output_tokens: 312 },
  });

export type OutputUsage = z.infer<typeof OutputUsageSchema>;

/** The figures of an output check's `usage`, in vakt's naming. */
export function reportedFigures(u: OutputUsage): { output_tokens: number; input_tokens?: number } {
  // The schema guarantees one of the two output names.
  const output_tokens = (u.output_tokens ?? u.completion_tokens) as number;
  const input_tokens = u.input_tokens ?? u.prompt_tokens;
  return input_tokens === undefined ? { output_tokens } : { output_tokens, input_tokens };
}
