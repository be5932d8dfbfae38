/**
 * GET /metrics — the merged exposition of every METRICS shard. Prometheus text 0.0.4 by
 * default, OpenMetrics 1.0 when Accept prefers it. Behind METRICS_TOKEN when that secret is set.
 * This is the one route that awaits the METRICS objects; request handling never does.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { counterTotal, mergeSnapshots } from '../metrics/aggregate';
import { CONTENT_TYPES, negotiateFormat, renderExposition } from '../metrics/exposition';
import { metricsShard } from '../metrics/flush';
import { tokenAuth } from '../middleware/auth';
import { problems } from '../schemas/common';
import type { AppEnv } from '../types';

export const metricsRoutes = new OpenAPIHono<AppEnv>();

const text = z.string().openapi({ example: '# HELP requests_total ...' });

metricsRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/metrics',
    tags: ['System'],
    summary: 'Prometheus metrics',
    description:
      'Exact totals aggregated across every isolate. Prometheus text 0.0.4, or OpenMetrics 1.0 when `Accept` asks for `application/openmetrics-text`. Requires `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set.',
    security: [{ MetricsBearer: [] }, {}],
    middleware: [tokenAuth('METRICS_TOKEN', { optional: true })] as const,
    responses: {
      200: {
        description: 'The exposition.',
        content: {
          [CONTENT_TYPES.prometheus]: { schema: text },
          [CONTENT_TYPES.openmetrics]: { schema: text },
        },
      },
      ...problems(401, 500, 503),
    },
  }),
  async (c) => {
    const config = c.get('config');
    const snapshots = await Promise.all(
      Array.from({ length: config.metricsShards }, (_, i) => metricsShard(c.env, i).snapshot()),
    );
    const series = mergeSnapshots(snapshots);
    // Written can run ahead of queued while the producer's increment is still in another
    // isolate's buffer; a gauge of "events in flight" is never negative, so clamp at 0.
    const backlog =
      counterTotal(series, 'logs_queued_total') -
      counterTotal(series, 'logs_written_total') -
      counterTotal(series, 'logs_dropped_total');
    const format = negotiateFormat(c.req.header('Accept'));
    const body = renderExposition(
      series,
      [
        { name: 'async_logger_queue_size', value: Math.max(0, backlog) },
        { name: 'async_logger_queue_maxsize', value: config.auditQueueMaxsize },
      ],
      format,
    );
    return c.body(body, 200, {
      'Content-Type': CONTENT_TYPES[format],
      'Cache-Control': 'no-store',
      Vary: 'Accept, Authorization',
    });
  },
);
