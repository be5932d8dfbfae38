/**
 * GET /metrics — the merged exposition of every METRICS shard. Prometheus text 0.0.4 by
 * default, OpenMetrics 1.0 when Accept prefers it. Behind METRICS_TOKEN when that secret is set.
 * This is the one route that awaits the METRICS objects; request handling never does.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { ProblemError } from '../errors';
import { backlogGauge, type BacklogDelta } from '../audit/backlog';
import { mergeSnapshots, type SeriesState } from '../metrics/aggregate';
import { CONTENT_TYPES, negotiateFormat, renderExposition } from '../metrics/exposition';
import { metricsShard } from '../metrics/flush';
import { tokenAuth } from '../middleware/auth';
import { captureException } from '../observability/report';
import { problems } from '../schemas/common';
import type { AppEnv } from '../types';

export const metricsRoutes = new OpenAPIHono<AppEnv>();

/**
 * Production never serves metrics (key ids, model names, traffic) to anyone by accident: without
 * METRICS_TOKEN the route is closed unless METRICS_PUBLIC=true says so explicitly. Elsewhere
 * (local, test) an unset token leaves it open, as `npm run dev` expects.
 */
const metricsAccess = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.get('config');
  if (!c.env.METRICS_TOKEN && config.environment === 'production' && !config.metricsPublic) {
    throw new ProblemError(503, {
      detail:
        '/metrics is closed: set the METRICS_TOKEN secret (and give Prometheus the same bearer ' +
        'token), or set METRICS_PUBLIC = "true" to serve it without one.',
      errors: [
        { path: '/METRICS_TOKEN', message: 'not set' },
        { path: '/METRICS_PUBLIC', message: 'not "true"' },
      ],
    });
  }
  await next();
});

const text = z.string().openapi({ example: '# HELP requests_total ...' });

metricsRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/metrics',
    tags: ['System'],
    summary: 'Prometheus metrics',
    description:
      'Exact totals aggregated across every isolate. Prometheus text 0.0.4, or OpenMetrics 1.0 when `Accept` asks for `application/openmetrics-text`. Requires `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set; in production without it, 503 unless METRICS_PUBLIC is "true".',
    security: [{ MetricsBearer: [] }, {}],
    middleware: [metricsAccess, tokenAuth('METRICS_TOKEN', { optional: true })] as const,
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
    let snapshots: SeriesState[][];
    let ledgers: BacklogDelta[][];
    try {
      const shards = Array.from({ length: config.metricsShards }, (_, i) => metricsShard(c.env, i));
      // One async task per shard, so a shard that fails leaves no promise unobserved.
      const read = await Promise.all(
        shards.map(async (s) => ({ snapshot: await s.snapshot(), backlog: await s.backlog() })),
      );
      snapshots = read.map((r) => r.snapshot);
      ledgers = read.map((r) => r.backlog);
    } catch (err) {
      // A partial merge would make counters appear to drop; fail the scrape (Prometheus records
      // up=0) and let the next one read every shard.
      captureException(c.env, c.executionCtx, err, {
        component: 'metrics',
        route: '/metrics',
        request_id: c.get('requestId'),
      });
      throw new ProblemError(503, {
        detail: 'Metrics storage is temporarily unavailable; retry the scrape.',
        headers: { 'Retry-After': '5' },
      });
    }
    const series = mergeSnapshots(snapshots);
    // Events in flight over the last hour, from the backlog ledger (src/audit/backlog.ts), not
    // from the forever counters: an event lost without a trace ages out instead of staying.
    const backlog = backlogGauge(ledgers.flat(), Date.now());
    const format = negotiateFormat(c.req.header('Accept'));
    const body = renderExposition(
      series,
      [
        { name: 'async_logger_queue_size', value: backlog },
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
