/**
 * The audit event: the contract between the producer (the check route) and everything that
 * stores or reads it (queue consumer, D1 row, R2 archive, export). One zod schema per version is
 * the single definition of each field; the TypeScript types are inferred from it, the consumer
 * validates with it, and the admin API documents it.
 *
 * Versions: v2 is what this build produces (keyed input hash). v1 events (unkeyed
 * `input_sha256`) are still read, so a rollout never strands events an older deployment queued;
 * their unkeyed hash is dropped on the way in (it was reversible — see docs/audit.md).
 *
 * Adding a field to v2 (docs/audit.md "Adding a field"): add it here as `.optional()` (an event
 * from a deployment without the field is still v2), map it to a column in `row.ts`
 * (`EVENT_COLUMNS`), and add that column in a migration. Nothing else changes: the archive and
 * the export carry the event as validated.
 *
 * An event never holds input text or a detected value: lengths, a keyed hash and counts only.
 */
import { z } from '@hono/zod-openapi';
import { REASONS } from '../governance/reasons';
// The request's bound (scrubbing may lengthen keys and values, never add keys).
import { MAX_METADATA_KEYS } from '../schemas/check';

/** Longest identifier string an event carries (scrubbed values are cut back to it, row.ts). */
export const MAX_IDENTIFIER_LENGTH = 256;
export const MAX_METADATA_VALUE_LENGTH = 1024;

/**
 * `monitored`: monitor mode let through a call enforce mode would block (docs/governance-api.md).
 * `token_limited`: refused by the key's token quota (429 token-quota-exceeded, 413
 * token-request-too-large), where `rate_limited` is the request quota. `usage`: not a decision
 * but a usage event (`kind: "usage"`).
 */
export const OUTCOMES = [
  'allowed',
  'blocked',
  'rate_limited',
  'monitored',
  'token_limited',
  'usage',
] as const;

/** Event kinds besides a decision (a decision event has no `kind`). */
export const EVENT_KINDS = ['usage'] as const;

const TokenCount = z.number().int().nonnegative().max(1e9);

/** Token figures of an event (docs/tokens.md): counts only. */
export const EventUsage = z
  .strictObject({
    counted_tokens: TokenCount.optional().openapi({
      description:
        'vakt’s count of the checked text (the prompt for an input check, the answer for an output check).',
    }),
    tokenizer: z
      .string()
      .regex(/^[a-z0-9_]{1,32}$/)
      .optional()
      .openapi({ description: 'What counted `counted_tokens` (`o200k_base`, …, `estimate`).' }),
    output_tokens: TokenCount.optional().openapi({
      description: 'Output tokens the caller reported (POST /v1/usage, an output check’s `usage`).',
    }),
    input_tokens: TokenCount.optional().openapi({
      description: 'Input tokens the caller reported as the provider billed them.',
    }),
    charged: z.boolean().optional().openapi({
      description:
        'Whether this event’s tokens were charged to the key’s token quota now (false: refused, already charged for this decision, or the limiter failed); absent for a key without `token_limit`.',
    }),
  })
  .openapi('AuditUsage');

const Identifier = z.string().min(1).max(MAX_IDENTIFIER_LENGTH);
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const Metadata = z
  .record(
    z.string().min(1).max(MAX_IDENTIFIER_LENGTH),
    z.union([z.string().max(MAX_METADATA_VALUE_LENGTH), z.number().finite(), z.boolean()]),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, {
    message: `at most ${MAX_METADATA_KEYS} metadata keys`,
  });

/** Fields every version shares, with their meaning (shown in the OpenAPI document). */
const common = {
  decision_id: z
    .uuid()
    .openapi({ description: 'Returned by POST /v1/check; the idempotency key.' }),
  ts: z.iso.datetime({ offset: true }).openapi({ description: 'Decision time, ISO 8601 UTC.' }),
  request_id: Identifier.openapi({ description: 'X-Request-Id of the check request.' }),
  api_key_id: z.uuid().openapi({ description: 'The API key’s id (never the key).' }),
  model: Identifier.openapi({ description: 'Model named by the caller, identifiers scrubbed.' }),
  operation: Identifier.openapi({ description: 'Operation named by the caller, scrubbed.' }),
  allowed: z.boolean(),
  outcome: z.enum(OUTCOMES),
  reasons: z.array(z.enum(REASONS)).max(REASONS.length),
  // Keys are checked by shape, not against this build's detector list, so an event from a
  // deployment with a newer detector is still written rather than dead-lettered.
  finding_counts: z
    .record(z.string().regex(/^[a-z0-9_]{1,64}$/), z.number().int().nonnegative().max(1e9))
    .openapi({ description: 'Finding type → count. Never offsets or values.' }),
  policy_version: Identifier,
  input_chars: z
    .number()
    .int()
    .nonnegative()
    .openapi({ description: 'Input length in Unicode code points.' }),
  latency_ms: z.number().finite().nonnegative(),
  metadata: Metadata.nullable().openapi({
    description: 'Caller metadata; keys and values scrubbed as identifiers.',
  }),
};

/** `allowed` is true exactly when the outcome is `allowed` or `monitored`. */
const consistent = <T extends { allowed: boolean; outcome: string }>(e: T) =>
  e.allowed === (e.outcome === 'allowed' || e.outcome === 'monitored');
const consistentIssue = {
  message: 'allowed must be true exactly when outcome is "allowed" or "monitored"',
  path: ['allowed'],
};

export const AuditEventV1Schema = z
  // `input_sha256` was required in v1; it is optional here because this build drops it on the
  // way in (sanitizeEvent), and a dead letter it keeps is re-read with this schema.
  .object({ v: z.literal(1), ...common, input_sha256: Hex64.optional() })
  // Unknown fields of a known version are dropped (never stored), not fatal.
  .strip()
  .refine(consistent, consistentIssue);

/** The v2 fields, before the cross-field rules (the admin API's record extends this). */
export const AuditEventV2Fields = z.object({
  v: z.literal(2),
  ...common,
  input_hmac: Hex64.optional().openapi({
    description:
      'Hex HMAC-SHA-256 of the input under the secret AUDIT_HASH_KEY; absent when no key is configured.',
  }),
  input_hmac_key_id: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional()
    .openapi({ description: 'Which AUDIT_HASH_KEY made input_hmac (rotation).' }),
  direction: z.enum(['input', 'output']).optional().openapi({
    description:
      'Whether the decision checked a prompt (`input`) or a model’s answer (`output`); absent in events from before output checks (input).',
  }),
  input_decision_id: z.uuid().optional().openapi({
    description: 'Output checks: the decision_id of the prompt’s check the caller linked.',
  }),
  skipped_parts: z.number().int().nonnegative().optional().openapi({
    description: 'Non-text parts (images, audio, files) that were not scanned.',
  }),
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional()
    .openapi({
      description:
        'The request’s W3C trace id (`traceparent`), linking the decision to its trace, Sentry event and log lines.',
    }),
  kind: z.enum(EVENT_KINDS).optional().openapi({
    description:
      'Absent for a decision. `usage`: a usage event — tokens reported after a model call (POST /v1/usage) for the decision in `input_decision_id`; its `decision_id` is derived from that decision’s, its `outcome` is `usage`.',
  }),
  usage: EventUsage.optional(),
});

export const AuditEventV2Schema = AuditEventV2Fields.strip()
  .refine(consistent, consistentIssue)
  .refine(
    (e) =>
      (e.kind === 'usage') === (e.outcome === 'usage') &&
      (e.kind !== 'usage' || e.input_decision_id !== undefined),
    {
      message: 'a usage event has outcome "usage" and an input_decision_id, and only it has',
      path: ['kind'],
    },
  )
  .refine((e) => (e.input_hmac === undefined) === (e.input_hmac_key_id === undefined), {
    message: 'input_hmac and input_hmac_key_id come together',
    path: ['input_hmac_key_id'],
  });

export type AuditEventV1 = z.infer<typeof AuditEventV1Schema>;
export type AuditEventV2 = z.infer<typeof AuditEventV2Schema>;
/** The event this build produces. */
export type AuditEvent = AuditEventV2;
/** Any event version the consumer reads. */
export type AnyAuditEvent = AuditEventV1 | AuditEventV2;
export type AuditOutcome = AuditEvent['outcome'];

/**
 * A queue message: many events packed into one body (the producer's group commit), or — from
 * an older deployment or a hand-sent message — a single event.
 */
export interface AuditPack {
  pack: 1;
  events: AuditEvent[];
}
export type AuditMessageBody = AuditPack | AnyAuditEvent;
