/**
 * Token usage reported after a model call — by POST /v1/usage or an output check's `usage` —
 * and its charge to the key's token quota (docs/tokens.md "Usage after the call"). Both paths
 * charge through `chargeReported`, keyed by the decision the usage belongs to, so a report is
 * charged once whichever path (or how many retries) carried it.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AuditEvent } from '../audit/event';
import type { Config } from '../config';
import type { Env } from '../env';
import { chargeUsageQuota, type TokenRule } from '../rate-limit';
import { metrics } from '../metrics/recorder';
import { recordRateLimitFailure } from '../rate-limit/failure';
import type { AppEnv, WaitUntil } from '../types';

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

/** How long the key's object remembers a charged decision: past any retry or late completion. */
export function usageMemoryMs(config: Pick<Config, 'usageReportHorizonS'>): number {
  return (config.usageReportHorizonS + 2 * 86_400) * 1000;
}

/**
 * Charges `tokens` reported for decision `id` to the key's token quota, once per id (the object
 * remembers it). Resolves `true` when charged now, `false` when this id was charged before;
 * `null` when the object could not answer (counted and reported like any limiter failure).
 */
export async function chargeReported(
  env: Env,
  ctx: WaitUntil,
  config: Config,
  tags: { route: string; api_key_id: string; request_id: string },
  rule: TokenRule,
  id: string,
  tokens: number,
): Promise<boolean | null> {
  try {
    const r = await chargeUsageQuota(
      env.RATE_LIMITER,
      tags.api_key_id,
      rule,
      id,
      tokens,
      usageMemoryMs(config),
    );
    return r.charged;
  } catch (error) {
    recordRateLimitFailure(env, ctx, { mode: config.rateLimitFailureMode, error }, tags);
    return null;
  }
}

/**
 * An output check's `usage`: counted in tokens_total{direction="output"} and, for a key with a
 * token_limit, charged to its quota once per `id` (the linked input decision, else the output
 * check's own) — the same charge as POST /v1/usage, so reporting one call both ways charges it
 * once. Never refuses: the answer exists. Returns the audit event's usage figures.
 */
export async function chargeOutputUsage(
  c: Context<AppEnv>,
  rule: TokenRule | undefined,
  usage: OutputUsage,
  id: string,
  model: string,
): Promise<NonNullable<AuditEvent['usage']>> {
  const figures = reportedFigures(usage);
  metrics.inc('tokens_total', { model, direction: 'output' }, figures.output_tokens);
  if (!rule) return figures;
  const tags = {
    route: '/v1/check',
    api_key_id: c.get('apiKey').id,
    request_id: c.get('requestId'),
  };
  const r = await chargeReported(
    c.env,
    c.executionCtx,
    c.get('config'),
    tags,
    rule,
    id,
    figures.output_tokens,
  );
  // `charged`: this decision's usage is in the quota (now, or by an earlier report of it).
  return { ...figures, charged: r !== null };
}
