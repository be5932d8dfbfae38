/**
 * POST /admin/metrics/delete-series — the METRICS objects keep series forever, so a series that
 * should not exist (one stored before a label rule was tightened, a retired route, a deleted key)
 * is removed here, on every shard. See docs/metrics.md, "Maintenance".
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { ProblemError } from '../errors';
import { metricsShard } from '../metrics/flush';
import { captureException } from '../observability/report';
import { adminSecurity, problems } from '../schemas/common';
import { DeleteSeriesRequestSchema, DeleteSeriesResultSchema } from '../schemas/metrics';
import type { AppEnv } from '../types';

export const adminMetricsRoutes = new OpenAPIHono<AppEnv>();

const json = <T>(schema: T) => ({ 'application/json': { schema } });

adminMetricsRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/admin/metrics/delete-series',
    tags: ['Admin: metrics'],
    summary: 'Delete metric series',
    description:
      'Deletes the stored series that match (a family, label values as `/metrics` shows them, or both) from every METRICS shard, and frees their room under the label and series caps. Idempotent: after a 503, send it again. Counters of a deleted series restart from 0 if it is recorded again (Prometheus treats that as a counter reset).',
    security: adminSecurity,
    request: { body: { required: true, content: json(DeleteSeriesRequestSchema) } },
    responses: {
      200: {
        description: 'What matched and was deleted.',
        content: json(DeleteSeriesResultSchema),
      },
      ...problems(400, 401, 413, 415, 500, 503),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const dryRun = body.dry_run ?? false;
    const filter = {
      ...(body.family === undefined ? {} : { family: body.family }),
      ...(body.labels === undefined ? {} : { labels: body.labels }),
    };
    let matched = 0;
    try {
      const results = await Promise.all(
        Array.from({ length: c.get('config').metricsShards }, (_, i) =>
          metricsShard(c.env, i).deleteSeries(filter, dryRun),
        ),
      );
      for (const r of results) matched += r.matched;
    } catch (err) {
      captureException(c.env, c.executionCtx, err, {
        component: 'metrics',
        route: '/admin/metrics/delete-series',
        request_id: c.get('requestId'),
      });
      throw new ProblemError(503, {
        detail: 'Metrics storage is temporarily unavailable; some shards may be done. Retry.',
        headers: { 'Retry-After': '5' },
      });
    }
    return c.json({ matched, deleted: dryRun ? 0 : matched, dry_run: dryRun }, 200, {
      'Cache-Control': 'no-store',
    });
  },
);
