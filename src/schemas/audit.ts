/** Schemas of the /admin/audit routes. They validate and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { REASONS } from '../governance/reasons';
import { AuditEventV2Fields, OUTCOMES } from '../audit/event';
import { AUDIT_VIAS } from '../audit/row';
import { DEAD_LETTER_REASONS } from '../audit/store';
import { MAX_EXPORT_RANGE_MS } from '../audit/export';

const MAX_EXPORT_RANGE_DAYS = MAX_EXPORT_RANGE_MS / 86_400_000;

export const MAX_AUDIT_PAGE = 200;
export const MAX_REPLAY_BATCH = 500;

const Timestamp = z.iso.datetime({ offset: true });
const Cursor = z
  .string()
  .max(200)
  .openapi({ description: '`next_cursor` of the previous page; opaque.' });

export const AuditListQuerySchema = z
  .strictObject({
    key_id: z.uuid().optional().openapi({ description: 'Only decisions of this API key id.' }),
    allowed: z
      .enum(['true', 'false'])
      .optional()
      .openapi({ description: 'Only allowed (`true`) or refused (`false`) decisions.' }),
    outcome: z
      .enum(OUTCOMES)
      .optional()
      .openapi({ description: 'Only this outcome (`rate_limited` decisions have no reasons).' }),
    reason: z.enum(REASONS).optional().openapi({ description: 'Only decisions with this reason.' }),
    since: Timestamp.optional().openapi({
      description: 'Decisions at or after this time (ISO 8601).',
      example: '2026-01-01T00:00:00Z',
    }),
    until: Timestamp.optional().openapi({ description: 'Decisions before this time (ISO 8601).' }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_AUDIT_PAGE)
      .default(50)
      .optional()
      .openapi({ description: `Page size, 1–${MAX_AUDIT_PAGE} (default 50).` }),
    cursor: Cursor.optional(),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), {
    message: 'since must not be after until',
    path: ['since'],
  });

export const DecisionIdParamSchema = z.object({
  decision_id: z.uuid().openapi({
    param: { name: 'decision_id', in: 'path' },
    example: '0b1d6a3e-3c1f-4f59-9a55-6f1f2f0c9a11',
  }),
});

/** A stored audit record: the event fields (src/audit/event.ts) plus how and when it was written. */
export const AuditRecordSchema = AuditEventV2Fields.extend({
  v: z.number().int().openapi({ description: 'Audit event version the row was written from.' }),
  via: z.enum(AUDIT_VIAS).openapi({
    description:
      '`queue`: the consumer; `fallback`: written by the producer when the queue refused it; `replay`: from a dead letter.',
  }),
  written_at: z.string().openapi({ description: 'When the row was stored, ISO 8601 UTC.' }),
}).openapi('AuditRecord');

export const AuditListSchema = z
  .object({
    items: z.array(AuditRecordSchema),
    next_cursor: z.string().nullable(),
    archive: z
      .object({
        before: z.string().openapi({ description: 'Start of the D1 hot window (ISO 8601).' }),
        export: z.string().openapi({
          description: 'An export URL for the part of the range before the hot window.',
        }),
        detail: z.string(),
      })
      .optional()
      .openapi({
        description:
          'Present when the queried range reaches before the hot window (AUDIT_HOT_DAYS): those decisions are only in the archive.',
      }),
  })
  .openapi('AuditList');

export const AuditExportQuerySchema = z
  .strictObject({
    since: Timestamp.openapi({
      description: 'Decisions at or after this time (ISO 8601).',
      example: '2026-01-01T00:00:00Z',
    }),
    until: Timestamp.optional().openapi({
      description: `Decisions before this time (ISO 8601; default now). At most ${MAX_EXPORT_RANGE_DAYS} days after \`since\`.`,
    }),
  })
  .refine((q) => !q.until || Date.parse(q.since) < Date.parse(q.until), {
    message: 'since must be before until',
    path: ['since'],
  })
  .refine(
    (q) =>
      (q.until ? Date.parse(q.until) : Date.now()) - Date.parse(q.since) <= MAX_EXPORT_RANGE_MS,
    {
      message: `the range may span at most ${MAX_EXPORT_RANGE_DAYS} days; split it into several exports`,
      path: ['until'],
    },
  );

export const DeadLetterListQuerySchema = z.strictObject({
  status: z
    .enum(['pending', 'replayed', 'all'])
    .default('pending')
    .optional()
    .openapi({ description: 'Default `pending` (not yet replayed).' }),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(50).optional(),
  cursor: Cursor.optional(),
});

export const DeadLetterSchema = z
  .object({
    id: z.string().openapi({
      description: 'The decision_id, or `message:<queue message id>` for a body without one.',
    }),
    decision_id: z.string().nullable(),
    message_id: z.string(),
    queue: z.string(),
    reason: z.enum(DEAD_LETTER_REASONS),
    error: z.string(),
    attempts: z.number().int(),
    payload: z.unknown().openapi({ description: 'The kept event (redacted), or null.' }),
    dead_at: z.string(),
    replayed_at: z.string().nullable(),
    replay_attempts: z.number().int(),
    replay_error: z.string().nullable(),
  })
  .openapi('AuditDeadLetter');

export const DeadLetterListSchema = z
  .object({ items: z.array(DeadLetterSchema), next_cursor: z.string().nullable() })
  .openapi('AuditDeadLetterList');

export const ReplayRequestSchema = z
  .strictObject({
    ids: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(MAX_REPLAY_BATCH)
      .optional()
      .openapi({ description: 'Dead letters to replay; default: the oldest pending ones.' }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPLAY_BATCH)
      .default(100)
      .optional()
      .openapi({ description: `At most this many (1–${MAX_REPLAY_BATCH}, default 100).` }),
  })
  .openapi('AuditReplayRequest');

export const ReplayResultSchema = z
  .object({
    replayed: z.number().int().openapi({ description: 'Dead letters now in audit_log.' }),
    inserted: z
      .number()
      .int()
      .openapi({ description: 'Of those, rows that were new (the rest were already logged).' }),
    failed: z.array(z.object({ id: z.string(), error: z.string() })),
    remaining: z.number().int().openapi({ description: 'Pending dead letters left.' }),
  })
  .openapi('AuditReplayResult');
