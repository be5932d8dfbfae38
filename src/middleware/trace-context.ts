/**
 * W3C Trace Context on every request: continues the caller's trace when its `traceparent` is
 * valid (strictly; see src/observability/trace-context.ts), starts one otherwise, and answers
 * every response — errors, 404s and 429s included — with `traceparent` (vakt's span as the
 * parent) and, where governance stages ran, `Server-Timing`. Registered first, so everything
 * after it (metrics, logs, Sentry, audit, background work) runs inside the request's trace.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { exportTrace } from '../observability/otlp';
import type { WaitUntil } from '../types';
import { RequestTrace, runWithTrace } from '../observability/request-trace';
import type { AppEnv } from '../types';
import { endpointLabel, UNMATCHED_ENDPOINT } from './request-metrics';

export function traceContext() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const trace = new RequestTrace(c.req.header('traceparent'), c.req.header('tracestate'));
    c.set('trace', trace);
    await runWithTrace(trace, next);
    // The configuration middleware has run by now unless configuration itself failed (a 503),
    // in which case a trace vakt started is not sampled.
    trace.decideSampling(c.get('config')?.traceSampleRatio ?? 0);
    setHeader(c, 'traceparent', trace.traceparent());
    const timing = trace.serverTiming();
    if (timing) setHeader(c, 'Server-Timing', timing);

    const config = c.get('config');
    if (trace.sampled && config?.otlp) {
      const end = performance.now();
      const ctx = executionContext(c);
      const route = endpointLabel(c);
      const method = c.req.method;
      if (ctx)
        exportTrace(
          c.env,
          ctx,
          config,
          config.otlp,
          trace,
          {
            // OpenTelemetry's HTTP server span name: `{method} {route}`, or the method alone.
            name: route === UNMATCHED_ENDPOINT ? method : `${method} ${route}`,
            status: c.res.status,
            attributes: {
              'http.request.method': method,
              ...(route === UNMATCHED_ENDPOINT ? {} : { 'http.route': route }),
              'http.response.status_code': c.res.status,
              'url.scheme': new URL(c.req.url).protocol.replace(':', ''),
              'vakt.request_id': c.get('requestId') ?? '',
            },
          },
          end,
        );
    }
  });
}

function executionContext(c: Context<AppEnv>): WaitUntil | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined; // app.request() without an ExecutionContext: nothing to export with
  }
}

/** Sets a header on the finished response, copying it first if its headers are immutable. */
function setHeader(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}
