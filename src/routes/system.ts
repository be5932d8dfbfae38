/** Routes with no API key: health, the OpenAPI document and the rendered reference. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
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

systemRoutes.get('/docs', swaggerUI({ url: '/openapi.json', title: 'vakt API reference' }));

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
