/**
 * Records requests_total{method,endpoint,status} and request_latency_ms{endpoint} for every
 * response — including 4xx/5xx from onError and 404/405 from notFound — then starts this
 * isolate's metric flush in `waitUntil`. Registered first, so it wraps everything else.
 *
 * `endpoint` is the matched route pattern in OpenAPI form (`/admin/keys/{id}`, as in
 * /openapi.json), never the raw path. Routing happens before any middleware runs, so a request
 * refused by middleware (401, 415…) still carries its route's pattern; a request no route
 * matches (404/405) is `endpoint="unmatched"`.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { flushMetrics } from '../metrics/flush';
import { metrics } from '../metrics/recorder';
import type { AppEnv } from '../types';

/** `endpoint` of requests that match no route. */
export const UNMATCHED_ENDPOINT = 'unmatched';
/** `method` of requests with a method outside the standard set (any token is legal HTTP). */
export const OTHER_METHOD = 'OTHER';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function requestMetrics() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const endpoint = endpointLabel(c);
      const method = METHODS.has(c.req.method) ? c.req.method : OTHER_METHOD;
      metrics.inc('requests_total', { method, endpoint, status: String(c.res.status) });
      // The request's trace id becomes its latency bucket's exemplar (OpenMetrics).
      metrics.observe(
        'request_latency_ms',
        { endpoint },
        performance.now() - started,
        c.get('trace')?.traceId,
      );
      let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
      try {
        ctx = c.executionCtx;
      } catch {
        // app.request() without an ExecutionContext (unit use): nothing to flush with.
      }
      if (ctx) flushMetrics(c.env, ctx);
    }
  });
}

/** The pattern of the route that handled the request (method routes only, not middleware). */
export function endpointLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method !== 'ALL') return toOpenApiPath(r.path);
  }
  return UNMATCHED_ENDPOINT;
}

/** Route pattern → its OpenAPI form; bounded by the app's route table. */
const openApiPaths = new Map<string, string>();

/** `/admin/keys/:id` → `/admin/keys/{id}` (also strips Hono's `:id{regex}` constraints). */
export function toOpenApiPath(path: string): string {
  let out = openApiPaths.get(path);
  if (out === undefined) {
    out = path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
    // Patterns come from the route table (a few dozen); the guard keeps a misuse bounded.
    if (openApiPaths.size < 256) openApiPaths.set(path, out);
  }
  return out;
}
