/**
 * POST /v1/usage — what a model call really used, reported after the call: the answer's tokens
 * (and, optionally, the prompt's as the provider billed them) for a /v1/check decision of the same
 * key. Idempotent per `decision_id`: a retry with the same figures gets the stored report back
 * (`replayed: true`), different figures are a 409. The decision is looked up in the audit log, so
 * a report reaches it once its audit event is stored (normally within seconds; until then 404 with
 * `Retry-After`). docs/tokens.md "Usage after the call".
 *
 * Charging (keys with a token_limit): the report is stored first (`charge = 'pending'`), then
 * charged in the key's RATE_LIMITER object, then marked `charged`. The object charges each
 * decision id once, so completing a pending charge again (a retry of the report) never
 * double-charges, and a crash between the steps leaves a visible pending row rather than a lost
 * charge. Each recorded report is a usage event in the audit log, linked to the decision.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { enqueueAudit } from '../audit/producer';
import { ProblemError } from '../errors';
import { mergePolicy } from '../governance/policy';
import { modelLabel } from '../metrics/labels';
import { metrics } from '../metrics/recorder';
import { apiKeyAuth } from '../middleware/auth';
import { apiKeySecurity, problems } from '../schemas/common';
import { chargeReported, ReportedTokens as tokens, usageEvent } from '../tokens/report';
import type { AppEnv } from '../types';

export const UsageReportSchema = z
  .strictObject({
    decision_id: z.uuid().openapi({ description: 'The `decision_id` of the /v1/check call.' }),
    output_tokens: tokens.openapi({
      description: 'The answer’s tokens, as the provider billed them.',
    }),
    input_tokens: tokens.optional().openapi({
      description: 'The prompt’s tokens as the provider billed them (recorded, not charged again).',
    }),
  })
  .openapi('UsageReport', {
    example: { decision_id: '0b1d5a57-3c4e-4d1e-9f43-2a6b8f0c1d2e', output_tokens: 312 },
  });

export const UsageReceiptSchema = z
  .object({
    decision_id: z.uuid(),
    output_tokens: z.number().int(),
    input_tokens: z.number().int().nullable(),
    reported_at: z
      .string()
      .openapi({ description: 'When the report was first stored (ISO 8601).' }),
    replayed: z.boolean().openapi({
      description:
        '`true` when this decision’s report was already stored (a retry): nothing new was recorded.',
    }),
    charged: z.boolean().openapi({
      description:
        'Whether the output tokens were charged to the key’s `token_limit` quota (once per decision, even past the quota); `false` for a key without one.',
    }),
  })
  .openapi('UsageReceipt');

const usageRoute = createRoute({
  method: 'post',
  path: '/v1/usage',
  tags: ['Governance'],
  summary: 'Report the tokens a model call used',
  description:
    'After the model answered: its output tokens (and optionally the billed input tokens) for a /v1/check decision of the same key. Idempotent per `decision_id`. See docs/tokens.md.',
  security: apiKeySecurity,
  middleware: [apiKeyAuth()] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: UsageReportSchema } } },
  },
  responses: {
    200: {
      description: 'The stored report (the first one, on a retry).',
      content: { 'application/json': { schema: UsageReceiptSchema } },
    },
    ...problems(400, 401, 403, 404, 409, 413, 415, 500, 503),
    // 503 also when the token quota's object could not be reached: the report is stored and its
    // charge pending; sending the same report again completes it.
  },
});

export const usageRoutes = new OpenAPIHono<AppEnv>();

interface DecisionRow {
  api_key_id: string;
  ts: number;
  model: string;
  operation: string;
  policy_version: string;
}
type Charge = 'pending' | 'charged' | 'none';
interface UsageRow {
  output_tokens: number;
  input_tokens: number | null;
  reported_at: number;
  charge: Charge;
}

usageRoutes.openapi(usageRoute, async (c) => {
  const started = performance.now();
  const body = c.req.valid('json');
  const key = c.get('apiKey');
  const config = c.get('config');
  const db = c.env.DB;
  const decision = await db
    .prepare(
      'SELECT api_key_id, ts, model, operation, policy_version FROM audit_log WHERE decision_id = ?',
    )
    .bind(body.decision_id)
    .first<DecisionRow>();
  if (!decision) {
    throw new ProblemError(404, {
      detail:
        'No decision with this decision_id is stored. A report sent right after its check may arrive before the decision’s audit event: retry shortly.',
      headers: { 'Retry-After': '1' },
    });
  }
  if (decision.api_key_id !== key.id) {
    throw new ProblemError(403, { detail: 'This decision belongs to another API key.' });
  }
  const horizonS = config.usageReportHorizonS;
  if (Date.now() - decision.ts > horizonS * 1000) {
    throw new ProblemError(409, {
      slug: 'usage-too-late',
      detail: `Usage must be reported within ${horizonS} s of its decision (USAGE_REPORT_HORIZON_S).`,
    });
  }
  const input = body.input_tokens ?? null;
  // The key's quota as its policy says now (a report is charged under the current rule).
  const rule = mergePolicy(config.defaultPolicy, key.policy).token_limit ?? null;
  const count = () =>
    metrics.inc(
      'tokens_total',
      { model: modelLabel(decision.model, config.knownModels), direction: 'output' },
      body.output_tokens,
    );
  /** Charges a stored, pending report (idempotent per decision), marks it, audits it. */
  const settle = async (): Promise<boolean> => {
    let charged = false;
    if (rule) {
      const tags = { route: '/v1/usage', api_key_id: key.id, request_id: c.get('requestId') };
      const r = await chargeReported(
        c.env,
        c.executionCtx,
        config,
        tags,
        rule,
        body.decision_id,
        body.output_tokens,
      );
      if (r) count();
      if (r === null) {
        throw new ProblemError(503, {
          detail:
            'The report is stored, but the token quota could not be charged yet. Send the same report again to complete it.',
          headers: { 'Retry-After': '1' },
        });
      }
      charged = true;
    }
    await db
      .prepare("UPDATE token_usage SET charge = ? WHERE decision_id = ? AND charge = 'pending'")
      .bind(charged ? 'charged' : 'none', body.decision_id)
      .run();
    // The usage event: its id is derived from the decision's, so a completion by a retry that
    // sends it again is stored once.
    enqueueAudit(
      c.env,
      c.executionCtx,
      await usageEvent({
        decisionId: body.decision_id,
        keyId: key.id,
        decision,
        figures: body,
        charged: rule ? charged : undefined,
        requestId: c.get('requestId'),
        traceId: c.get('trace').traceId,
        latencyMs: performance.now() - started,
      }),
      undefined,
    );
    return charged;
  };
  const stored = await db
    .prepare(
      `INSERT INTO token_usage (decision_id, api_key_id, output_tokens, input_tokens, reported_at, charge)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (decision_id) DO NOTHING RETURNING reported_at`,
    )
    .bind(
      body.decision_id,
      key.id,
      body.output_tokens,
      input,
      Date.now(),
      // Settled below; a crash before that leaves it pending for a retry to complete.
      'pending',
    )
    .first<{ reported_at: number }>();
  if (stored) {
    // Counted once per decision: here without a quota; with one, when the object charges it.
    if (!rule) count();
    const charged = await settle();
    return c.json(
      receipt(body.decision_id, body.output_tokens, input, stored.reported_at, false, charged),
      200,
    );
  }
  // A report for this decision exists: a retry gets it back; different figures are a conflict.
  const prior = await db
    .prepare(
      'SELECT output_tokens, input_tokens, reported_at, charge FROM token_usage WHERE decision_id = ?',
    )
    .bind(body.decision_id)
    .first<UsageRow>();
  if (prior && prior.output_tokens === body.output_tokens && prior.input_tokens === input) {
    // A retry after a crash or an unreachable object: complete the pending charge (the object
    // charges a decision once, so a concurrent duplicate doing the same is harmless).
    const charged = prior.charge === 'pending' ? await settle() : prior.charge === 'charged';
    return c.json(
      receipt(
        body.decision_id,
        prior.output_tokens,
        prior.input_tokens,
        prior.reported_at,
        true,
        charged,
      ),
      200,
    );
  }
  throw new ProblemError(409, {
    slug: 'usage-already-reported',
    detail: 'Usage for this decision was already reported with different figures.',
  });
});

function receipt(
  decision_id: string,
  output_tokens: number,
  input_tokens: number | null,
  reportedAt: number,
  replayed: boolean,
  charged: boolean,
) {
  return {
    decision_id,
    output_tokens,
    input_tokens,
    reported_at: new Date(reportedAt).toISOString(),
    replayed,
    charged,
  };
}
