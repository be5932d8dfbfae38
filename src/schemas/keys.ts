/** Schemas of the /admin/keys routes. */
import { z } from '@hono/zod-openapi';
import { PolicyOverrideSchema, PolicySchema } from '../governance/policy';
import { cleanName } from './identifier-text';

export const KeyIdParamSchema = z.object({
  id: z.uuid().openapi({
    param: { name: 'id', in: 'path' },
    example: '0b1d6a3e-3c1f-4f59-9a55-6f1f2f0c9a11',
  }),
});

/** Listed to every admin and kept: no personal data (src/schemas/identifier-text.ts). */
export const KeyNameSchema = cleanName(z.string().trim().min(1).max(100));

export const CreateKeyRequestSchema = z
  .strictObject({
    name: KeyNameSchema.openapi({ example: 'billing-service' }),
    policy: PolicyOverrideSchema.optional(),
  })
  .openapi('CreateKeyRequest');

/**
 * A PATCH body is a JSON Merge Patch (RFC 7396) of the key. Its `policy` member is a merge patch of
 * the key's policy override, checked after merging against PolicyOverrideSchema (so every policy
 * field is defined once, there).
 */
export const UpdateKeyRequestSchema = z
  .strictObject({
    name: KeyNameSchema.optional(),
    policy: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .openapi({
        description:
          'A merge patch of the key’s policy override (RFC 7396): named fields change, `null` removes one ' +
          '(back to the default), objects (`detectors`, `rate_limit`) merge per field, arrays replace. ' +
          '`"policy": null` returns the key to the default policy.',
        example: { detectors: { email: 'block', phone: null } },
      }),
  })
  .refine((v) => v.name !== undefined || v.policy !== undefined, {
    message: 'give at least one of name, policy',
  })
  .openapi('UpdateKeyRequest');

export const KeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    key_prefix: z
      .string()
      .openapi({ description: 'First characters of the key, to recognise it.' }),
    policy: PolicyOverrideSchema.nullable().openapi({
      description: 'The key’s override; null = default policy.',
    }),
    effective_policy: PolicySchema,
    policy_version: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

export const CreatedKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: 'The API key. Shown once; only its SHA-256 is stored.' }),
}).openapi('CreatedApiKey');

export const KeyListSchema = z
  .object({ items: z.array(KeySchema), next_cursor: z.string().nullable() })
  .openapi('ApiKeyList');

export const KeyListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50).optional(),
  cursor: z.string().max(200).optional(),
});

const quotaUsage = (unit: string) => ({
  limit: z
    .number()
    .int()
    .openapi({ description: `The quota: ${unit} per \`window_s\`.` }),
  window_s: z.number().int(),
  used: z
    .number()
    .int()
    .openapi({ description: `${unit} counted against the quota now.` }),
  remaining: z
    .number()
    .int()
    .openapi({ description: `${unit} that could be admitted right now.` }),
  reset_s: z.number().int().openapi({
    description: 'Seconds until the quota is fully restored if nothing more is admitted.',
  }),
});

export const KeyUsageSchema = z
  .object({
    key_id: z.uuid(),
    requests: z
      .object({
        ...quotaUsage('Requests'),
        leased: z.number().int().openapi({
          description:
            'Admissions handed to gateway isolates in leases and not yet returned or expired; counted in `used` (docs/rate-limit.md#leases-decisions-without-a-round-trip).',
        }),
      })
      .openapi('RequestQuotaUsage'),
    tokens: z
      .object({
        ...quotaUsage('Tokens'),
        overdraft: z.number().int().openapi({
          description:
            'Reported output tokens owed beyond the quota (POST /v1/usage charges them even past it); counted in `used`, which then exceeds `limit`.',
        }),
      })
      .nullable()
      .openapi('TokenQuotaUsage', {
        description: 'Null when the key’s effective policy has no `token_limit`.',
      }),
  })
  .openapi('KeyUsage');
