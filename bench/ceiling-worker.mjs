/**
 * The benchmark's ceiling: the cheapest Hono JSON route, bundled and served exactly like vakt
 * (same wrangler bundler, same Miniflare/workerd settings). `npm run bench` reports every vakt
 * scenario as a ratio of this worker's throughput and latency in the same run.
 * It receives the same 1 KB POST body vakt gets and reads it (an unread body makes workerd drop the
 * keep-alive connection, which would turn the ceiling into a reconnect benchmark).
 */
import { Hono } from 'hono';

const app = new Hono();
app.post('/', async (c) => {
  await c.req.arrayBuffer();
  return c.json({ ok: true });
});
app.get('/', (c) => c.json({ ok: true }));

export default app;
