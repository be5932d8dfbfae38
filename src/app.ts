/**
 * The HTTP application: middleware in the order every request passes it, the routes, and the one
 * error path (`onError` + `notFound`) that turns anything into RFC 9457 problem+json.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { getConfig } from './config';
import { malformedJson, ProblemError, sendProblem, validationError } from './errors';
import { tokenAuth } from './middleware/auth';
import { requestId } from './middleware/request-id';
import { wellFormedInput } from './middleware/well-formed';
import { requestMetrics } from './middleware/request-metrics';
import { traceContext } from './middleware/trace-context';
import { instrumentedEnv } from './observability/instrument-env';
import { reportError } from './observability/report';
import { adminAuditRoutes } from './routes/admin-audit';
import { adminKeyRoutes } from './routes/admin-keys';
import { adminMetricsRoutes } from './routes/admin-metrics';
import { checkRoutes } from './routes/check';
import { usageRoutes } from './routes/usage';
import { metricsRoutes } from './routes/metrics';
import { systemRoutes } from './routes/system';
import { fieldErrors } from './schemas/issues';
import type { AppEnv } from './types';

export const app = new OpenAPIHono<AppEnv>({
  // Schema failures from every route become one problem shape naming each field, never
  // echoing a client key or value that vakt's identifier rules flag (errors.ts, issueErrors).
  // The validator also hands over the submitted value (`data`; not in the hook's type): union
  // errors are resolved against it (src/schemas/issues.ts).
  defaultHook: (result) => {
    if (!result.success) {
      const submitted = (result as { data?: unknown }).data;
      throw validationError(fieldErrors(result.error.issues, submitted));
    }
  },
});

// First: every request runs inside its trace (ids for logs, Sentry, audit, exemplars), and every
// response gets `traceparent` and `Server-Timing`.
app.use(traceContext());
// Next, so it sees every response (errors, 404/405 included) and flushes after recording.
app.use(requestMetrics());
app.use(requestId());
app.use(secureHeaders({ crossOriginResourcePolicy: 'same-origin' }));
app.use(async (c, next) => {
  const config = await getConfig(c.env);
  c.set('config', config);
  // With span export on, subrequests (rate-limiter RPC, audit queue send) become child spans.
  if (config.otlp) c.env = instrumentedEnv(c.env);
  await next();
});
// One body-limit middleware per configured limit (normally one per isolate), not one per request.
const bodyLimits = new Map<number, MiddlewareHandler>();
app.use((c, next) => {
  const limit = c.get('config').maxBodyBytes;
  let limiter = bodyLimits.get(limit);
  if (!limiter) {
    limiter = bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new ProblemError(413, { detail: `The request body exceeds ${limit} bytes.` });
      },
    });
    bodyLimits.set(limit, limiter);
  }
  return limiter(c, next);
});
// JSON bodies only: anything else is 415 before any validator sees it.
app.use(async (c, next) => {
  if (c.req.method === 'POST' || c.req.method === 'PATCH' || c.req.method === 'PUT') {
    const type = c.req.header('Content-Type') ?? '';
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new ProblemError(415, {
        detail: 'Send the request body as JSON with `Content-Type: application/json`.',
        headers: { 'Accept-Post': 'application/json' },
      });
    }
  }
  await next();
});

app.use('/admin/*', tokenAuth('ADMIN_TOKEN'));
// Strings that are not well-formed (lone surrogates, bytes or percent-encoding that are not
// UTF-8) are refused here for every route, before any validator or handler; like the size and
// media-type checks above, before an API key is looked up (admin routes check their token first).
app.use(wellFormedInput());

app.route('/', systemRoutes);
app.route('/', checkRoutes);
app.route('/', usageRoutes);
app.route('/', adminKeyRoutes);
app.route('/', adminAuditRoutes);
app.route('/', adminMetricsRoutes);
app.route('/', metricsRoutes);

app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKeyBearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'An API key created with POST /admin/keys.',
});
app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKeyHeader', {
  type: 'apiKey',
  in: 'header',
  name: 'X-API-Key',
});
app.openAPIRegistry.registerComponent('securitySchemes', 'AdminBearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'ADMIN_TOKEN.',
});
app.openAPIRegistry.registerComponent('securitySchemes', 'MetricsBearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'METRICS_TOKEN (only when it is set).',
});
app.doc31('/openapi.json', () => ({
  openapi: '3.1.0',
  info: {
    title: 'vakt',
    version: '1.0.0',
    description:
      'AI-governance gateway: call POST /v1/check before sending a prompt to a language model. All errors are RFC 9457 problem+json.',
  },
  // Relative: the document never reflects the request's Host header.
  servers: [{ url: '/' }],
}));

app.notFound((c) => {
  const allowed = allowedMethods(c.req.path);
  if (allowed.length > 0) {
    return sendProblem(
      c,
      new ProblemError(405, {
        // A method is any token the client chose: name it only when it is a standard one.
        detail: `${STANDARD_METHODS.has(c.req.method) ? c.req.method : 'This method'} is not supported here; use ${allowed.join(', ')}.`,
        headers: { Allow: allowed.join(', ') },
      }),
    );
  }
  return sendProblem(
    c,
    new ProblemError(404, { detail: 'No route matches this path. See /docs for the API.' }),
  );
});

/** The one error path. Exported so tests can put it on a test-only app (test/workers/sentry.test.ts). */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ProblemError) return sendProblem(c, err);
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own client errors (e.g. malformed JSON) — reshape, never echo the input.
    if (err.status === 400) return sendProblem(c, malformedJson());
    return sendProblem(
      c,
      new ProblemError(err.status, {
        slug: 'error',
        title: 'Error',
        detail: 'The request could not be processed.',
      }),
    );
  }
  reportError(c, err);
  return sendProblem(
    c,
    new ProblemError(500, {
      detail: `An unexpected error occurred. It has been reported; quote request id ${c.get('requestId') ?? 'unknown'}.`,
    }),
  );
}
app.onError(onError);

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Methods registered for a path (for 405 + Allow), from the router's own route table. */
function allowedMethods(path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const pattern = new RegExp('^' + r.path.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*') + '$');
    if (pattern.test(path)) methods.add(r.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
