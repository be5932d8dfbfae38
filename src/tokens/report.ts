/**
 * Token usage reported after a model call — by POST /v1/usage or an output check's `usage` —
 * and its charge to the key's token quota (docs/tokens.md "Usage after the call"). Both paths
 * charge through `chargeReported`, keyed by the decision the usage belongs to, so a report is
 * charged once whichever path (or how many retries) carried it.
 */
import type { Context } from 'hono';
import type { AuditEvent } from '../audit/event';
import { enqueueAudit, type UnhashedAuditEvent } from '../audit/producer';
import type { Config } from '../config';
import type { Env } from '../env';
import { mergePolicy } from '../governance/policy';
import { getKey } from '../keys/store';
import { chargeUsageQuota, type TokenRule } from '../rate-limit';
import { modelLabel } from '../metrics/labels';
import { metrics } from '../metrics/recorder';
import { recordRateLimitFailure } from '../rate-limit/failure';
import type { AppEnv, WaitUntil } from '../types';
import { type OutputUsage, reportedFigures } from './usage-schema';

export { MAX_REPORTED_TOKENS, OutputUsageSchema, ReportedTokens } from './usage-schema';

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
  const count = () =>
    metrics.inc('tokens_total', { model, direction: 'output' }, figures.output_tokens);
  // Without a quota there is nothing that remembers the decision: every report counts.
  if (!rule) {
    count();
    return figures;
  }
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
  // Counted once per decision, like the charge (a retry or a second path adds nothing).
  if (r === true) count();
  // `charged`: this decision's usage is in the quota (now, or by an earlier report of it).
  return { ...figures, charged: r !== null };
}

/** What a usage event repeats of its decision (from the decision's audit row). */
export interface ReportedDecision {
  model: string;
  operation: string;
  policy_version: string;
}

/**
 * The audit log's usage event for a recorded report (docs/tokens.md "Audit"): outcome `usage`,
 * linked to the decision by `input_decision_id`, no input hash (it checked no text).
 */
export async function usageEvent(r: {
  decisionId: string;
  keyId: string;
  decision: ReportedDecision;
  figures: { output_tokens: number; input_tokens?: number | null | undefined };
  /** Absent for a key without token_limit. */
  charged: boolean | undefined;
  requestId: string;
  traceId?: string | undefined;
  latencyMs: number;
}): Promise<UnhashedAuditEvent> {
  const { output_tokens, input_tokens } = r.figures;
  return {
    v: 2,
    kind: 'usage',
    decision_id: await usageEventId(r.decisionId),
    ts: new Date().toISOString(),
    request_id: r.requestId,
    api_key_id: r.keyId,
    model: r.decision.model,
    operation: r.decision.operation,
    allowed: false,
    outcome: 'usage',
    reasons: [],
    finding_counts: {},
    policy_version: r.decision.policy_version,
    input_chars: 0,
    latency_ms: Math.round(r.latencyMs * 1000) / 1000,
    metadata: null,
    input_decision_id: r.decisionId,
    ...(r.traceId ? { trace_id: r.traceId } : {}),
    usage: {
      output_tokens,
      ...(input_tokens !== undefined && input_tokens !== null ? { input_tokens } : {}),
      ...(r.charged !== undefined ? { charged: r.charged } : {}),
    },
  };
}

/**
 * A usage event's id: a UUID (version 8, RFC 9562) from SHA-256 of the decision id, so every
 * emission of one decision's usage event has the same id and the audit log keeps it once.
 */
export async function usageEventId(decisionId: string): Promise<string> {
  const data = new TextEncoder().encode(`vakt usage event ${decisionId}`);
  const b = new Uint8Array(await crypto.subtle.digest('SHA-256', data)).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Reports the daily sweep takes per run (oldest first); more wait for the next run. */
export const SETTLE_BATCH = 500;
/** A pending report younger than this may still be settled by its own request. */
export const SETTLE_MIN_AGE_MS = 5 * 60_000;

interface PendingRow extends ReportedDecision {
  decision_id: string;
  api_key_id: string;
  output_tokens: number;
  input_tokens: number | null;
}

/**
 * The daily cron's completion of reports left `pending` (a crash, or an unreachable object, and
 * no resend): charged once each — the object remembers the decisions it charged, so one charged
 * before the crash is not charged again — marked, and audited. Only reports young enough that the
 * object still remembers them (`usageMemoryMs` − 1 day); older ones are left pending and counted
 * in `expired`. Stops at the first object failure (the rest wait for the next run).
 */
export async function settlePendingUsage(
  env: Env,
  ctx: WaitUntil,
  config: Config,
  now: number,
): Promise<{ charged: number; uncharged: number; failed: number; expired: number }> {
  const db = env.DB;
  const oldest = now - usageMemoryMs(config) + 86_400_000;
  const { results } = await db
    .prepare(
      `SELECT u.decision_id, u.api_key_id, u.output_tokens, u.input_tokens,
              a.model, a.operation, a.policy_version
       FROM token_usage AS u JOIN audit_log AS a ON a.decision_id = u.decision_id
       WHERE u.charge = 'pending' AND u.reported_at >= ? AND u.reported_at < ?
       ORDER BY u.reported_at LIMIT ?`,
    )
    .bind(oldest, now - SETTLE_MIN_AGE_MS, SETTLE_BATCH)
    .all<PendingRow>();
  const out = { charged: 0, uncharged: 0, failed: 0, expired: 0 };
  for (const row of results) {
    const key = await getKey(db, row.api_key_id);
    const rule =
      key && !key.revoked_at
        ? (mergePolicy(config.defaultPolicy, key.policy).token_limit ?? null)
        : null;
    let charged: boolean | undefined;
    if (rule) {
      const tags = { route: 'cron', api_key_id: row.api_key_id, request_id: 'usage-settle' };
      const r = await chargeReported(
        env,
        ctx,
        config,
        tags,
        rule,
        row.decision_id,
        row.output_tokens,
      );
      if (r === null) {
        out.failed++;
        break;
      }
      if (r) {
        const model = modelLabel(row.model, config.knownModels);
        metrics.inc('tokens_total', { model, direction: 'output' }, row.output_tokens);
      }
      charged = true;
    }
    await db
      .prepare("UPDATE token_usage SET charge = ? WHERE decision_id = ? AND charge = 'pending'")
      .bind(charged ? 'charged' : 'none', row.decision_id)
      .run();
    if (charged) out.charged++;
    else out.uncharged++;
    enqueueAudit(
      env,
      ctx,
      await usageEvent({
        decisionId: row.decision_id,
        keyId: row.api_key_id,
        decision: row,
        figures: row,
        charged,
        requestId: 'usage-settle',
        latencyMs: 0,
      }),
      undefined,
    );
  }
  const stale = await db
    .prepare("SELECT count(*) AS n FROM token_usage WHERE charge = 'pending' AND reported_at < ?")
    .bind(oldest)
    .first<{ n: number }>();
  out.expired = stale?.n ?? 0;
  return out;
}
