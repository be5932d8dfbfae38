/** Request and response schemas of POST /v1/check. They validate and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { DETECTOR_TYPES, type DetectorType } from '../pii/types';
import { ACTIONS } from '../governance/policy';
import { REASONS } from '../governance/reasons';
import { tooDeep, MAX_DEPTH } from '../governance/content';
import { InputSchema, OutputSchema } from './content';
import { TOKENIZERS } from '../tokens/models';
import { OutputUsageSchema } from '../tokens/usage-schema';
import { visibleText } from './identifier-text';

export const MAX_METADATA_KEYS = 32;

export const MetadataSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, 'metadata keys use A-Z a-z 0-9 _ . -'),
    z.union([visibleText(z.string().max(256)), z.number().finite(), z.boolean()]),
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
    model: visibleText(z.string().min(1).max(128)).openapi({ example: 'gpt-4' }),
    operation: visibleText(z.string().min(1).max(64)).openapi({ example: 'classify' }),
    input: InputSchema.optional(),
    output: OutputSchema.optional(),
    input_decision_id: z.uuid().optional().openapi({
      description:
        'With `output`: the `decision_id` of the input check of the same call; links the two in the audit log.',
    }),
    metadata: MetadataSchema.optional(),
    usage: OutputUsageSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const has = (k: 'input' | 'output') => body[k] !== undefined;
    if (has('input') === has('output')) {
      ctx.addIssue({
        code: 'custom',
        path: has('input') ? ['output'] : ['input'],
        message: has('input')
          ? 'send either `input` or `output`, not both'
          : 'required: `input` (a prompt) or `output` (a model answer)',
      });
    }
    const value = body.input ?? body.output;
    const deep = value === undefined ? null : tooDeep(value);
    if (deep) {
      ctx.addIssue({
        code: 'custom',
        path: [has('input') ? 'input' : 'output', ...deep],
        message: `nested deeper than ${MAX_DEPTH} levels`,
      });
    }
    for (const k of ['input_decision_id', 'usage'] as const) {
      if (body[k] !== undefined && !has('output')) {
        ctx.addIssue({ code: 'custom', path: [k], message: 'only allowed with `output`' });
      }
    }
  })
  .openapi('CheckRequest', {
    description:
      'Exactly one of `input` (check a prompt) or `output` (check a model’s answer). See docs/governance-api.md.',
  });

export const FindingSchema = z
  .object({
    type: z.enum(DETECTOR_TYPES as [DetectorType, ...DetectorType[]]),
    start: z.number().int().openapi({ description: 'Offset in Unicode code points (inclusive).' }),
    end: z.number().int().openapi({ description: 'Offset in Unicode code points (exclusive).' }),
    action: z.enum(ACTIONS),
    path: z.string().openapi({
      description:
        'JSON pointer of the scanned text inside `input` / `output` (`""` for a string); offsets are within that text. For JSON tool arguments the text is the arguments string; for Anthropic `tool_use.input` it is `JSON.stringify(input)`.',
      example: '/2/tool_calls/0/function/arguments',
    }),
    message_index: z.number().int().optional().openapi({
      description: 'Index of the top-level message / item / choice (array values only).',
    }),
  })
  .openapi('Finding', {
    example: {
      type: 'email',
      start: 9,
      end: 24,
      action: 'redact',
      path: '/1/content/0/text',
      message_index: 1,
    },
  });

export const RateLimitStateSchema = z
  .object({
    limit: z.number().int(),
    remaining: z.number().int(),
    reset_s: z.number().int(),
  })
  .openapi('RateLimitState');

export const UsageSchema = z
  .object({
    input_tokens: z.number().int().optional().openapi({
      description: 'Input checks: tokens of the prompt, chat framing included (docs/tokens.md).',
    }),
    output_tokens: z.number().int().optional().openapi({
      description: 'Output checks: tokens of the answer’s text.',
    }),
    tokenizer: z.enum(TOKENIZERS).openapi({
      description:
        'The encoding the model family uses (`o200k_base`, `cl100k_base`), or `estimate` for families without a public tokenizer.',
    }),
  })
  .openapi('Usage', {
    description: 'Tokens of the checked text, counted as the target model counts them.',
    example: { input_tokens: 42, tokenizer: 'o200k_base' },
  });

export const MonitorSchema = z
  .object({
    would_allow: z.boolean(),
    reasons: z.array(z.enum(REASONS)),
    findings: z.array(FindingSchema),
  })
  .openapi('MonitorResult', {
    description:
      'Monitor mode only: what enforce mode would have decided. The decision itself allows everything and alters nothing.',
    example: {
      would_allow: false,
      reasons: ['contains_personal_data'],
      findings: [{ type: 'no_fodselsnummer', start: 4, end: 15, action: 'block', path: '' }],
    },
  });

const redactedDescription = (field: string) =>
  `The \`${field}\` with \`redact\` findings replaced by \`[TYPE]\`, same shape as sent; null unless something was redacted (always null in monitor mode).`;

export const CheckResponseSchema = z
  .object({
    decision_id: z.uuid(),
    allowed: z.boolean(),
    reasons: z.array(z.enum(REASONS)),
    findings: z.array(FindingSchema),
    direction: z.enum(['input', 'output']).openapi({
      description: '`output` when the request checked `output`, else `input`.',
    }),
    redacted_input: z
      .union([InputSchema, z.null()])
      .optional()
      .openapi({ description: redactedDescription('input') + ' Input checks only.' }),
    redacted_output: z
      .union([OutputSchema, z.null()])
      .optional()
      .openapi({ description: redactedDescription('output') + ' Output checks only.' }),
    skipped_parts: z.number().int().openapi({
      description: 'Non-text parts (images, audio, files, documents) that were not scanned.',
    }),
    monitor: MonitorSchema.optional(),
    policy_version: z.string(),
    rate_limit: RateLimitStateSchema,
    usage: UsageSchema.optional().openapi({
      description:
        'Present when vakt counts tokens: always with `TOKEN_USAGE=always` (the default), else for keys with a `token_limit`.',
    }),
  })
  .openapi('CheckResponse', {
    example: {
      decision_id: '0b1d5a57-3c4e-4d1e-9f43-2a6b8f0c1d2e',
      allowed: true,
      reasons: [],
      findings: [
        {
          type: 'email',
          start: 24,
          end: 39,
          action: 'redact',
          path: '/0/message/content',
          message_index: 0,
        },
      ],
      direction: 'output',
      redacted_output: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Kundens e-postadresse er [EMAIL].' },
          finish_reason: 'stop',
        },
      ],
      skipped_parts: 0,
      policy_version: '3f2a9c0d1e4b5a67',
      rate_limit: { limit: 60, remaining: 58, reset_s: 2 },
      usage: { output_tokens: 9, tokenizer: 'o200k_base' },
    },
  });

export type CheckRequest = z.infer<typeof CheckRequestSchema>;
export type CheckResponse = z.infer<typeof CheckResponseSchema>;
