/** Routes with no API key: health, the OpenAPI document and the rendered reference. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../types';

export const systemRoutes = new OpenAPIHono<AppEnv>();

systemRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    tags: ['System'],
    summary: 'Liveness',
    description: 'Touches no dependency: answers as long as the Worker runs.',
    responses: {
      200: {
        description: 'vakt is running.',
        content: {
          'application/json': {
            schema: z
              .object({ status: z.literal('ok'), service: z.literal('vakt') })
              .openapi('Health'),
          },
        },
      },
    },
  }),
  (c) =>
    c.json({ status: 'ok' as const, service: 'vakt' as const }, 200, {
      'Cache-Control': 'no-store',
    }),
);

/**
 * The API reference page. Swagger UI itself (npm swagger-ui-dist, pinned) and init.js are the
 * Worker's static assets under /docs/ (assets/, [assets] in wrangler.toml): nothing loads from a
 * CDN, so the page renders offline, and the CSP allows only vakt's own origin.
 */
const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>vakt API reference</title>
    <link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes and draws icons as data: images.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

systemRoutes.get('/docs', (c) =>
  c.html(DOCS_HTML, 200, { 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }),
);

// The document and the reference are plain handlers; list them in the document too.
systemRoutes.openAPIRegistry.registerPath({
  method: 'get',
  path: '/openapi.json',
  tags: ['System'],
  summary: 'This OpenAPI 3.1 document',
  responses: {
    200: {
      description: 'The document.',
      content: { 'application/json': { schema: z.object({}).passthrough() } },
    },
  },
});
systemRoutes.openAPIRegistry.registerPath({
  method: 'get',
  path: '/docs',
  tags: ['System'],
  summary: 'Rendered API reference (Swagger UI)',
  responses: {
    200: { description: 'HTML page.', content: { 'text/html': { schema: z.string() } } },
  },
});
