/**
 * POST /v1/check — the gateway's decision. Stages, each timed into
 * governance_check_latency_ms{stage}: rate_limit → validation → scoring → logging.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AuditEvent } from '../audit/event';
import { enqueueAudit, type UnhashedAuditEvent } from '../audit/producer';
import { problem, ProblemError, sendProblem, validationError } from '../errors';
import type { Config } from '../config';
import { inputSegments, outputSegments, MAX_TOTAL_PARTS } from '../governance/content';
import { mergePolicy, policyFor, policyVersion, type Policy } from '../governance/policy';
import type { ApiKeyRecord } from '../keys/store';
import { codePointLength, evaluate } from '../governance/pipeline';
import type { CheckRequestInput, Direction, Finding } from '../governance/types';
import type { GovernanceStage } from '../metrics/definitions';
import { modelLabel, operationLabel } from '../metrics/labels';
import { metrics } from '../metrics/recorder';
import { apiKeyAuth, keyRevoked } from '../middleware/auth';
import { chargeTokenQuota, checkRateLimit, rateLimitHeaders } from '../rate-limit';
import { recordRateLimitFailure } from '../rate-limit/failure';
import { quotaExceededResponse, RATE_LIMIT_RESPONSE_HEADERS } from '../rate-limit/openapi';
import { CheckRequestSchema, CheckResponseSchema, type CheckRequest } from '../schemas/check';
import { countUsage } from '../tokens/count';
import { chargeOutputUsage } from '../tokens/report';
import { apiKeySecurity, problems } from '../schemas/common';
import type { AppEnv } from '../types';

const checkRoute = createRoute({
  method: 'post',
  path: '/v1/check',
  tags: ['Governance'],
  summary: 'Decide whether a model call is allowed',
  description:
    'Checks model, operation, size, personal data and secrets of a prompt (`input`) or of a model’s answer (`output`) against the key’s policy and quota. A blocked call is still `200` with `allowed: false`. Output checks count against the same rate limit as input checks. In monitor mode (policy `mode: "monitor"`) every call is allowed, nothing is redacted, and `monitor` says what enforce mode would have done. Shapes, streaming and an end-to-end example: docs/governance-api.md.',
  security: apiKeySecurity,
  middleware: [apiKeyAuth()] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: CheckRequestSchema } } },
  },
  responses: {
    200: {
      description:
        'The decision. Carries `RateLimit-Policy`, `RateLimit` and `X-RateLimit-*` headers.',
      headers: RATE_LIMIT_RESPONSE_HEADERS,
      content: { 'application/json': { schema: CheckResponseSchema } },
    },
    429: quotaExceededResponse,
    ...problems(400, 401, 413, 415, 500, 503),
  },
});

export const checkRoutes = new OpenAPIHono<AppEnv>();

checkRoutes.openapi(checkRoute, async (c) => {
  const started = performance.now();
  const body = c.req.valid('json');
  const key = c.get('apiKey');
  const config = c.get('config');
  const { policy, version, knownOperations } = await effectivePolicy(key, config);
  const decisionId = crypto.randomUUID();
  const direction: Direction = body.output !== undefined ? 'output' : 'input';
  // The schema guarantees exactly one of the two (schemas/check.ts).
  const value = (direction === 'output' ? body.output : body.input) as CheckRequestInput;
  const content = direction === 'output' ? outputSegments(value) : inputSegments(value);
  const parts = content.segments.length + content.skippedParts;
  if (parts > MAX_TOTAL_PARTS) {
    throw validationError([
      { path: `/${direction}`, message: `at most ${MAX_TOTAL_PARTS} parts in all (got ${parts})` },
    ]);
  }
  const labels = {
    model: modelLabel(body.model, config.knownModels),
    operation: operationLabel(body.operation, knownOperations),
  };

  // Stage: rate_limit
  let t = performance.now();
  const rl = await checkRateLimit(
    c.env.RATE_LIMITER,
    { id: key.id, version: key.updated_at },
    policy.rate_limit,
    config.rateLimitFailureMode,
    { leaseMs: config.rateLimitLeaseMs, ctx: c.executionCtx },
  );
  recordStage(c, 'rate_limit', t, performance.now());
  // The key was revoked elsewhere and this isolate's cached record did not know yet.
  if (rl.source === 'revoked') throw keyRevoked();
  // Both quotas' headers (src/rate-limit/headers.ts); the token figures join once charged.
  let headers = rateLimitHeaders({
    rule: rl.rule,
    decision: rl.decision,
    tokens: policy.token_limit && { rule: policy.token_limit, decision: null, cost: 0 },
    refusedBy: rl.decision.allowed || rl.source === 'failure' ? undefined : 'requests',
  });
  if (rl.source === 'failure') {
    recordRateLimitFailure(c.env, c.executionCtx, rl, {
      route: '/v1/check',
      api_key_id: key.id,
      request_id: c.get('requestId'),
    });
  }

  // The request span's attributes (exported only with OTLP on): ids and labels, never input.
  Object.assign(c.get('trace').attributes, {
    'vakt.decision_id': decisionId,
    'vakt.api_key_id': key.id,
    'vakt.model': labels.model,
    'vakt.operation': labels.operation,
    'vakt.direction': direction,
    // Who decided the quota: a lease (no round trip), the object, the deny cache, or the
    // failure policy. With `lease` or `cache` the trace has no RateLimiter span, rightly.
    'vakt.rate_limit.source': rl.source,
  });

  const segments = content.segments;
  const inputChars = segments.reduce((n, s) => n + codePointLength(s.text), 0);
  // Token figures for the audit event (docs/tokens.md), once there are any.
  let auditUsage: AuditEvent['usage'];
  const audit = (fields: Pick<AuditEvent, 'allowed' | 'outcome' | 'reasons' | 'finding_counts'>) =>
    logDecision(c, body, value, {
      ...fields,
      ...(auditUsage ? { usage: auditUsage } : {}),
      decisionId,
      version,
      inputChars,
      started,
      direction,
      skippedParts: content.skippedParts,
    });

  if (!rl.decision.allowed) {
    const failed = rl.source === 'failure';
    // A fail-closed refusal is counted in rate_limit_failures_total, not as a quota hit.
    if (!failed) metrics.inc('rate_limit_hits_total', { api_key_id: key.id });
    audit({ allowed: false, outcome: 'rate_limited', reasons: [], finding_counts: {} });
    const { limit, remaining, reset_s, retry_after_s } = rl.decision;
    // Answered, not thrown: this is the hot path of a key over its quota (no stack trace, no
    // unwinding through the middleware); the same problem onError would send.
    return sendProblem(
      c,
      problem(failed ? 503 : 429, {
        detail: failed
          ? 'The rate limiter is unavailable and vakt is configured to fail closed.'
          : `Quota of ${limit} requests per ${rl.rule.window_s} s exceeded.`,
        headers: { ...headers, 'Retry-After': String(retry_after_s) },
        extensions: {
          decision_id: decisionId,
          retry_after_s,
          rate_limit: { limit, remaining, reset_s },
        },
      }),
      // problem+json is not a typed `c.json` response; the body is QuotaExceededProblemSchema.
    ) as never;
  }

  // Tokens: counted only for admitted requests (a refusal never loads a tokenizer), and only when
  // configured to or when the key has a token quota.
  const usage =
    config.tokenUsage === 'always' || policy.token_limit
      ? await countUsage(body.model, direction, value, segments)
      : null;

  if (usage && direction === 'input') {
    metrics.inc('tokens_total', { model: labels.model, direction: 'input' }, usage.tokens);
  }
  if (usage) auditUsage = { counted_tokens: usage.tokens, tokenizer: usage.tokenizer };

  // Stage: the token quota (docs/tokens.md). Input checks are charged their counted tokens in the
  // key's RATE_LIMITER object, one exact call; output checks are charged what they report (below).
  if (usage && direction === 'input' && policy.token_limit) {
    const tq = await chargeTokenQuota(
      c.env.RATE_LIMITER,
      key.id,
      policy.token_limit,
      usage.tokens,
      config.rateLimitFailureMode,
    );
    // The RPC has its own RateLimiter.chargeTokens client span (instrument-env.ts).
    c.get('trace').attributes['vakt.token_quota.source'] = tq.source;
    if (tq.source === 'failure') {
      recordRateLimitFailure(c.env, c.executionCtx, tq, {
        route: '/v1/check',
        api_key_id: key.id,
        request_id: c.get('requestId'),
      });
    }
    const refused = tq.source === 'failure' ? !tq.allowed : !tq.decision.allowed;
    headers = rateLimitHeaders({
      rule: rl.rule,
      decision: rl.decision,
      tokens: {
        rule: policy.token_limit,
        decision: tq.source === 'object' ? tq.decision : null,
        cost: usage.tokens,
      },
      refusedBy: refused && tq.source !== 'failure' ? 'tokens' : undefined,
    });
    auditUsage = { ...auditUsage, charged: tq.source === 'object' && !refused };
    if (refused) {
      // Its own outcome: the audit row tells a token refusal from a request-quota one.
      audit({ allowed: false, outcome: 'token_limited', reasons: [], finding_counts: {} });
      const rate_limit = {
        limit: rl.decision.limit,
        remaining: rl.decision.remaining,
        reset_s: rl.decision.reset_s,
      };
      if (tq.source === 'failure') {
        throw new ProblemError(503, {
          detail: 'The rate limiter is unavailable and vakt is configured to fail closed.',
          headers: { ...headers, 'Retry-After': '1' },
          extensions: { decision_id: decisionId, retry_after_s: 1, rate_limit },
        });
      }
      const d = tq.decision;
      const limits = {
        input_tokens: usage.tokens,
        token_limit: { limit: d.limit, remaining: d.remaining, reset_s: d.reset_s },
      };
      if (d.too_large) {
        metrics.inc('token_quota_refusals_total', { api_key_id: key.id, reason: 'too_large' });
        // Not retryable: no Retry-After, and a status clients do not retry.
        throw new ProblemError(413, {
          slug: 'token-request-too-large',
          detail: `This request has ${usage.tokens} input tokens; the key's whole token quota is ${d.limit} per ${policy.token_limit.window_s} s, so it can never be admitted.`,
          headers,
          extensions: { decision_id: decisionId, rate_limit, ...limits },
        });
      }
      metrics.inc('token_quota_refusals_total', { api_key_id: key.id, reason: 'exceeded' });
      throw new ProblemError(429, {
        slug: 'token-quota-exceeded',
        detail: `Token quota of ${d.limit} tokens per ${policy.token_limit.window_s} s exceeded.`,
        headers: { ...headers, 'Retry-After': String(d.retry_after_s) },
        extensions: {
          decision_id: decisionId,
          retry_after_s: d.retry_after_s,
          rate_limit,
          ...limits,
        },
      });
    }
  }

  // An output check's reported usage: charged like POST /v1/usage, once per input decision.
  if (body.usage !== undefined && direction === 'output') {
    auditUsage = {
      ...auditUsage,
      ...(await chargeOutputUsage(
        c,
        policy.token_limit,
        body.usage,
        body.input_decision_id ?? decisionId,
        labels.model,
      )),
    };
  }

  // Stages: validation, scoring
  t = performance.now();
  const evaluation = evaluate(
    {
      model: body.model,
      operation: body.operation,
      segments,
      inputChars,
      policy: policyFor(policy, direction),
      knownModels: config.knownModels,
    },
    value,
  );
  // The pipeline times its stages itself; they ran back to back from `t`.
  const validated = t + evaluation.timings.validation;
  recordStage(c, 'validation', t, validated);
  recordStage(c, 'scoring', validated, validated + evaluation.timings.scoring);
  // Monitor mode: the decision above is what enforce would do; the call goes through untouched.
  const monitor = policy.mode === 'monitor';
  const allowed = monitor || evaluation.allowed;
  if (allowed) metrics.inc('governance_allowed_total', labels);
  for (const f of evaluation.findings)
    metrics.inc('governance_findings_total', { type: f.type, action: f.action });
  for (const reason of evaluation.reasons)
    metrics.inc(monitor ? 'governance_monitored_total' : 'governance_blocked_total', {
      ...labels,
      reason,
    });

  Object.assign(c.get('trace').attributes, {
    'vakt.allowed': allowed,
    'vakt.reasons': evaluation.reasons,
    'vakt.findings': evaluation.findings.length,
  });

  // Stage: logging
  t = performance.now();
  audit({
    allowed,
    // `monitored`: let through by monitor mode although enforce mode would have blocked it for
    // these reasons.
    outcome: evaluation.allowed ? 'allowed' : monitor ? 'monitored' : 'blocked',
    reasons: evaluation.reasons,
    finding_counts: countByType(evaluation.findings),
  });
  recordStage(c, 'logging', t, performance.now());

  return c.json(
    {
      decision_id: decisionId,
      allowed,
      reasons: monitor ? [] : evaluation.reasons,
      findings: monitor ? [] : evaluation.findings,
      direction,
      [direction === 'output' ? 'redacted_output' : 'redacted_input']: monitor
        ? null
        : evaluation.redacted,
      skipped_parts: content.skippedParts,
      ...(monitor
        ? {
            monitor: {
              would_allow: evaluation.allowed,
              reasons: evaluation.reasons,
              findings: evaluation.findings,
            },
          }
        : {}),
      policy_version: version,
      rate_limit: {
        limit: rl.decision.limit,
        remaining: rl.decision.remaining,
        reset_s: rl.decision.reset_s,
      },
      ...(usage
        ? {
            usage: {
              [direction === 'output' ? 'output_tokens' : 'input_tokens']: usage.tokens,
              tokenizer: usage.tokenizer,
            },
          }
        : {}),
    },
    200,
    headers,
  );
});

/**
 * One governance stage: governance_check_latency_ms{stage}, the `Server-Timing` entry and a child
 * span of the request. `start`/`end` are performance.now() readings.
 */
function recordStage(c: Context<AppEnv>, stage: GovernanceStage, start: number, end: number): void {
  // `c.get`, never `c.var` on this path: Hono builds a fresh object of every variable per `c.var`.
  const trace = c.get('trace');
  metrics.observe('governance_check_latency_ms', { stage }, end - start, trace.traceId);
  trace.stage(stage, start, end);
}

interface DecisionFacts {
  decisionId: string;
  version: string;
  inputChars: number;
  started: number;
  direction: Direction;
  skippedParts: number;
}

/** Hands the decision to the audit logger; hashing and sending happen in `waitUntil`. */
function logDecision(
  c: Context<AppEnv>,
  body: CheckRequest,
  checked: CheckRequestInput,
  f: Pick<AuditEvent, 'allowed' | 'outcome' | 'reasons' | 'finding_counts' | 'usage'> &
    DecisionFacts,
): void {
  const event: UnhashedAuditEvent = {
    v: 2,
    decision_id: f.decisionId,
    ts: new Date().toISOString(),
    request_id: c.get('requestId'),
    api_key_id: c.get('apiKey').id,
    model: body.model,
    operation: body.operation,
    allowed: f.allowed,
    outcome: f.outcome,
    reasons: f.reasons,
    finding_counts: f.finding_counts,
    policy_version: f.version,
    input_chars: f.inputChars,
    latency_ms: Math.round((performance.now() - f.started) * 1000) / 1000,
    // Scrubbed by the producer before it enters the queue (src/audit/row.ts sanitizeEvent).
    metadata: body.metadata ?? null,
    direction: f.direction,
    ...(body.input_decision_id ? { input_decision_id: body.input_decision_id } : {}),
    skipped_parts: f.skippedParts,
    trace_id: c.get('trace').traceId,
    ...(f.usage ? { usage: f.usage } : {}),
  };
  enqueueAudit(c.env, c.executionCtx, event, checked);
}

function countByType(findings: readonly Finding[]): AuditEvent['finding_counts'] {
  const counts: AuditEvent['finding_counts'] = {};
  for (const f of findings) counts[f.type] = (counts[f.type] ?? 0) + 1;
  return counts;
}

interface EffectivePolicy {
  config: Config;
  policy: Policy;
  version: string;
  /** Operations any policy in force names: the operation label's vocabulary. */
  knownOperations: readonly string[];
}

/**
 * The key's effective policy and its version, memoised on the cached key record (which lives as
 * long as the key cache keeps it), so the hot path does not merge and hash per request. An admin
 * update evicts the record, so a changed policy gets a fresh entry.
 */
const effectiveCache = new WeakMap<ApiKeyRecord, EffectivePolicy>();

async function effectivePolicy(key: ApiKeyRecord, config: Config): Promise<EffectivePolicy> {
  const hit = effectiveCache.get(key);
  if (hit?.config === config) return hit;
  const policy = mergePolicy(config.defaultPolicy, key.policy);
  const entry: EffectivePolicy = {
    config,
    policy,
    version: key.policy ? await policyVersion(policy) : config.defaultPolicyVersion,
    knownOperations: [...new Set([...config.defaultPolicy.operations, ...policy.operations])],
  };
  effectiveCache.set(key, entry);
  return entry;
}
