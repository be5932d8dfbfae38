/** Schemas of the metrics maintenance route (POST /admin/metrics/delete-series). */
import { z } from '@hono/zod-openapi';
import { METRIC_DEFINITIONS, type MetricDefinition, type MetricName } from '../metrics/definitions';

const DEFS: Record<string, MetricDefinition> = METRIC_DEFINITIONS;
/** Families with stored series (gauges are computed at scrape time and hold nothing). */
const STORED_FAMILIES = (Object.keys(METRIC_DEFINITIONS) as MetricName[]).filter(
  (n) => METRIC_DEFINITIONS[n].type !== 'gauge',
) as [MetricName, ...MetricName[]];
const LABEL_NAMES = new Set(Object.values(DEFS).flatMap((d) => d.labels));
const MAX_LABEL_MATCHERS = 8;

export const DeleteSeriesRequestSchema = z
  .strictObject({
    family: z
      .enum(STORED_FAMILIES)
      .optional()
      .openapi({ description: 'Only series of this family (default: every family).' }),
    labels: z
      .record(z.string().min(1).max(64), z.string().max(256))
      .optional()
      .openapi({
        description:
          'Only series whose label equals this value, as `/metrics` shows it (label name → value). Every listed label must match.',
        example: { model: 'external-model' },
      }),
    dry_run: z
      .boolean()
      .optional()
      .openapi({ description: 'Count the matching series without deleting them.' }),
  })
  .superRefine((v, ctx) => {
    const labels = Object.keys(v.labels ?? {});
    if (v.family === undefined && labels.length === 0)
      ctx.addIssue({ code: 'custom', path: [], message: 'name a family, a label, or both' });
    if (labels.length > MAX_LABEL_MATCHERS)
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `at most ${MAX_LABEL_MATCHERS} labels`,
      });
    const known = v.family === undefined ? LABEL_NAMES : new Set(DEFS[v.family]!.labels);
    for (const l of labels)
      if (!known.has(l))
        ctx.addIssue({
          code: 'custom',
          path: ['labels', l],
          message:
            v.family === undefined ? 'no family has this label' : 'the family has no such label',
        });
  })
  .openapi('DeleteSeriesRequest');

export const DeleteSeriesResultSchema = z
  .object({
    matched: z.number().int().openapi({ description: 'Series that matched, summed over shards.' }),
    deleted: z.number().int().openapi({ description: 'Series deleted (0 on a dry run).' }),
    dry_run: z.boolean(),
  })
  .openapi('DeleteSeriesResult');
