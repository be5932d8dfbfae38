/** Request and response schemas of POST /v1/check. They validate and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { DETECTOR_TYPES, type DetectorType } from '../pii/types';
import { ACTIONS } from '../governance/policy';
import { REASONS } from '../governance/reasons';

export const MAX_CHAT_MESSAGES = 1000;
export const MAX_METADATA_KEYS = 32;

export const ChatMessageSchema = z
  .strictObject({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
  })
  .openapi('ChatMessage');

export const MetadataSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, 'metadata keys use A-Z a-z 0-9 _ . -'),
    z.union([z.string().max(256), z.number().finite(), z.boolean()]),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, {
    message: `at most ${MAX_METADATA_KEYS} metadata keys`,
  })
  .openapi('Metadata', {
    description: `Flat object of strings (≤ 256 chars), numbers and booleans; at most ${MAX_METADATA_KEYS} keys. Stored in the audit log with personal data redacted.`,
    example: { user_ref: 'abc' },
  });

export const CheckRequestSchema = z
  .strictObject({
    model: z.string().min(1).max(128).openapi({ example: 'gpt-4' }),
    operation: z.string().min(1).max(64).openapi({ example: 'classify' }),
    input: z
      .union([z.string(), z.array(ChatMessageSchema).min(1).max(MAX_CHAT_MESSAGES)])
      .openapi({ description: 'A string, or a chat array of `{role, content}` messages.' }),
    metadata: MetadataSchema.optional(),
  })
  .openapi('CheckRequest');

export const FindingSchema = z
  .object({
    type: z.enum(DETECTOR_TYPES as [DetectorType, ...DetectorType[]]),
    start: z.number().int().openapi({ description: 'Offset in Unicode code points (inclusive).' }),
    end: z.number().int().openapi({ description: 'Offset in Unicode code points (exclusive).' }),
    action: z.enum(ACTIONS),
    message_index: z.number().int().optional().openapi({ description: 'Chat input only.' }),
  })
  .openapi('Finding');

export const RateLimitStateSchema = z
  .object({
    limit: z.number().int(),
    remaining: z.number().int(),
    reset_s: z.number().int(),
  })
  .openapi('RateLimitState');

export const CheckResponseSchema = z
  .object({
    decision_id: z.uuid(),
    allowed: z.boolean(),
    reasons: z.array(z.enum(REASONS)),
    findings: z.array(FindingSchema),
    redacted_input: z.union([z.string(), z.array(ChatMessageSchema), z.null()]).openapi({
      description:
        'The input with `redact` findings replaced by `[TYPE]`; null unless something was redacted.',
    }),
    policy_version: z.string(),
    rate_limit: RateLimitStateSchema,
  })
  .openapi('CheckResponse');

export type CheckRequest = z.infer<typeof CheckRequestSchema>;
export type CheckResponse = z.infer<typeof CheckResponseSchema>;
