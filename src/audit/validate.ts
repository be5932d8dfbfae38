/**
 * Validation of audit messages as they come off a queue. The body is untrusted data (an older or
 * newer deployment, or a hand-sent message may have produced it): a body that is not a known,
 * well-formed event version is dead-lettered at once instead of being retried forever.
 */
import { z } from '@hono/zod-openapi';
import { REASONS } from '../governance/reasons';
import type { AuditEvent } from './event';

/** Limits that keep one row small; the producer never comes near them. */
const MAX_TEXT = 256;
const MAX_METADATA_KEYS = 64;

const Identifier = z.string().min(1).max(MAX_TEXT);

const AuditEventV1Schema = z
  .object({
    v: z.literal(1),
    decision_id: z.uuid(),
    ts: z.iso.datetime({ offset: true }),
    request_id: Identifier,
    api_key_id: z.uuid(),
    model: Identifier,
    operation: Identifier,
    allowed: z.boolean(),
    outcome: z.enum(['allowed', 'blocked', 'rate_limited']),
    reasons: z.array(z.enum(REASONS)).max(REASONS.length),
    // Keys are checked by shape, not against this build's detector list, so an event from a
    // deployment with a newer detector is still written rather than dead-lettered.
    finding_counts: z.record(
      z.string().regex(/^[a-z0-9_]{1,64}$/),
      z.number().int().nonnegative().max(1_000_000_000),
    ),
    policy_version: Identifier,
    input_chars: z.number().int().nonnegative(),
    input_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    latency_ms: z.number().finite().nonnegative(),
    metadata: z
      .record(
        z.string().min(1).max(MAX_TEXT),
        z.union([z.string().max(1024), z.number().finite(), z.boolean()]),
      )
      .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, {
        message: `at most ${MAX_METADATA_KEYS} metadata keys`,
      })
      .nullable(),
  })
  // Unknown fields of a known version are dropped (never stored), not fatal.
  .strip()
  .refine((e) => e.allowed === (e.outcome === 'allowed'), {
    message: 'allowed must be true exactly when outcome is "allowed"',
    path: ['allowed'],
  });

export type ParseResult = { ok: true; event: AuditEvent } | { ok: false; error: string };

/**
 * Checks an untrusted message body against the event versions this build understands.
 * The error names fields and rules only — never a value from the body.
 */
export function parseAuditEvent(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'body is not a JSON object' };
  }
  const version = (body as { v?: unknown }).v;
  if (version !== 1) {
    return {
      ok: false,
      // Only a small integer is echoed: a body is untrusted and must not leak into logs.
      error: `unknown event version (${
        Number.isInteger(version) && (version as number) >= 0 && (version as number) < 1000
          ? String(version)
          : typeof version
      })`,
    };
  }
  const result = AuditEventV1Schema.safeParse(body);
  if (result.success) return { ok: true, event: result.data };
  const issues = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.code}`);
  return { ok: false, error: `invalid v1 event: ${issues.join('; ')}` };
}

/** The decision_id of a body, if it carries a well-formed one (for dead-letter keys). */
export function decisionIdOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const id = (body as { decision_id?: unknown }).decision_id;
  return typeof id === 'string' && z.uuid().safeParse(id).success ? id : null;
}
